-- The knowledge tables in the catalogue (poddarkiv.archive.migrations creates them when the
-- catalogue opens; poddarkiv.archive.knowledge fills them).
-- Every per-episode row goes with its episode (ON DELETE CASCADE). Statements end with ";".

CREATE TABLE IF NOT EXISTS knowledge_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS themes (
    slug TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    name TEXT NOT NULL, description TEXT NOT NULL,
    name_en TEXT NOT NULL, description_en TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS episode_themes (
    episode_id TEXT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    theme TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (episode_id, theme)
);
CREATE INDEX IF NOT EXISTS episode_themes_theme ON episode_themes(theme, score);
CREATE TABLE IF NOT EXISTS passage_themes (
    episode_id TEXT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    segment INTEGER NOT NULL,
    start_s REAL NOT NULL, end_s REAL NOT NULL,
    theme TEXT NOT NULL,
    score REAL NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (episode_id, segment, theme)
);
CREATE INDEX IF NOT EXISTS passage_themes_theme ON passage_themes(theme);
CREATE TABLE IF NOT EXISTS reference_mentions (
    episode_id TEXT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    kind TEXT NOT NULL, key TEXT NOT NULL, label TEXT NOT NULL, url TEXT,
    segment INTEGER, start_s REAL, end_s REAL,   -- NULL: the title or show notes
    context TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reference_mentions_ref ON reference_mentions(kind, key);
CREATE INDEX IF NOT EXISTS reference_mentions_ep ON reference_mentions(episode_id);
CREATE TABLE IF NOT EXISTS person_mentions (
    episode_id TEXT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    slug TEXT NOT NULL, name TEXT NOT NULL,
    source TEXT NOT NULL,                         -- feed, description or transcript
    role TEXT NOT NULL, grp TEXT NOT NULL, href TEXT, img TEXT,
    segment INTEGER, start_s REAL, end_s REAL,
    context TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS person_mentions_slug ON person_mentions(slug);
CREATE INDEX IF NOT EXISTS person_mentions_ep ON person_mentions(episode_id);
CREATE TABLE IF NOT EXISTS episode_terms (
    episode_id TEXT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    term TEXT NOT NULL,                           -- a folded Snowball stem
    label TEXT NOT NULL,                          -- the form the episode used most
    count INTEGER NOT NULL,
    PRIMARY KEY (episode_id, term)
);
CREATE INDEX IF NOT EXISTS episode_terms_term ON episode_terms(term);
CREATE TABLE IF NOT EXISTS chapters (
    episode_id TEXT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    source TEXT NOT NULL,                         -- publisher or suggested
    position INTEGER NOT NULL,
    start_s REAL NOT NULL, title TEXT NOT NULL, url TEXT,
    PRIMARY KEY (episode_id, source, position)
);
