"""The bundled sample podcast feed, its audio and transcripts."""
