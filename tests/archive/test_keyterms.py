"""Key terms: inflected forms count as one term, stop words never count, and tf-idf ranks the
words that set an episode apart."""

from __future__ import annotations

from poddarkiv.archive.keyterms import STOP_WORDS, count_terms, key_terms


def test_inflected_forms_are_one_term_shown_as_the_commonest_form() -> None:
    counts = count_terms("Upphandlingen och upphandlingar. En upphandling, upphandlingen igen.")
    (term,) = [t for t in counts.counts if t.startswith("upphandl")]
    assert counts.counts[term] == 4
    assert counts.labels[term] == "upphandlingen"


def test_stop_words_fillers_numbers_and_short_words_do_not_count() -> None:
    counts = count_terms("Och det är alltså liksom faktiskt så att vi ju 2016 ja nej EU")
    assert counts.counts == {}
    assert {"och", "alltså", "liksom"} <= STOP_WORDS


def test_acronyms_keep_their_capitals() -> None:
    counts = count_terms("IOP är ett IOP, och SGEI")
    assert sorted(counts.labels.values()) == ["IOP", "SGEI"]


def test_accents_fold_into_the_same_term() -> None:
    counts = count_terms("idéburen ideburen")
    assert list(counts.counts.values()) == [2]


def test_tf_idf_prefers_distinctive_words() -> None:
    mine = count_terms("Statsstöd statsstöd partnerskap kommunen")
    # Every episode talks about partnerskap and kommunen; only this one about statsstöd.
    df = {term: (1 if term.startswith("statsst") else 10) for term in mine.counts}
    ranked = key_terms(mine, document_frequency=df, documents=10)
    assert ranked[0].label == "statsstöd"
    assert ranked[0].count == 2
    assert [k.score for k in ranked] == sorted((k.score for k in ranked), reverse=True)


def test_limit_and_a_corpus_of_one() -> None:
    counts = count_terms("alfa beta gamma delta epsilon")
    ranked = key_terms(counts, document_frequency={}, documents=1, limit=3)
    assert len(ranked) == 3
    assert all(k.score > 0 for k in ranked)
