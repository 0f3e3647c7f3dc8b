"""Record linkage: every accepted record to a person, every person to a household as of a date.

1. **Deterministic**: a record with a usable ID number (valid, or legacy converted) belongs to
   the person whose key is the HMAC of that number (probability 1).
2. **Probabilistic** (Splink, Fellegi-Sunter, DuckDB backend) for records without a usable ID:
   each is compared with the *profiles* of the persons known by ID (their distinct name, birth
   date, sex, village and agency-entity combinations) and with the other unresolved records, on
   the normalized name, birth date, sex, village (and township) code, the agency's entity key
   (case, certificate, employer...) and, for a number that fails its check character, the one
   correction of a single digit that gives a known person (:func:`id_corrections`; found
   through keys, so no ID number is stored). m-probabilities are learned from the
   deterministic links (records with IDs are labelled pairs), u-probabilities by random
   sampling; both are saved with the warehouse so later runs score pairs the same way.
3. A record takes its best-matching person at or above :data:`MATCH_THRESHOLD`; unresolved
   records linked to each other at the threshold form new persons; a record that matches
   nobody becomes its own person (method ``singleton``, flagged), never dropped.

Each link has an ``evidence_date``: the day from which the data that made it was known
(the later of the record's own knowledge time and the first knowledge of the matched profile;
a record's **knowledge time** is the later of its recorded date and the extract date of the
delivery that brought it). The feature build uses a link only from that day, so a later record
— or a record that arrived in a later delivery — cannot reach back.

Modules: :mod:`~features.linkage.comparisons` (normalization, comparisons, blocking),
:mod:`~features.linkage.model` (thresholds, training), :mod:`~features.linkage.resolve` (the run
over the warehouse), :mod:`~features.linkage.clusters` (records to persons; the links, persons
and memberships tables), :mod:`~features.linkage.evaluate` (against a truth),
:mod:`~features.linkage.table` (``link --table``), :mod:`~features.linkage.households`
(households as of a date) and :mod:`~features.linkage.stage` (``run``, ``run_table``).

Public surface::

    run(settings, LinkOptions(retrain, truth), progress) -> LinkReport        # .stage
    run_table(settings, TableOptions(tables, maps, out, encoding, labels, review)) -> TableReport
    link(con, keys, model_path, retrain, truth_dir, progress) -> LinkReport
    link_tables(frames, maps, labels) -> (frames, notes, pairs);  parse_map(text, columns)
    evaluate_against_truth(con, truth_dir);  pairwise_counts(pred, truth, flag)
    normalize_name(name);  id_corrections(raw)
    MATCH_THRESHOLD, LOW_CONFIDENCE
"""

from features.linkage.comparisons import id_corrections, normalize_name
from features.linkage.evaluate import evaluate_against_truth, pairwise_counts
from features.linkage.model import LOW_CONFIDENCE, MATCH_THRESHOLD
from features.linkage.resolve import LinkReport, link
from features.linkage.stage import LinkOptions, TableOptions, TableReport
from features.linkage.table import link_tables
from features.linkage.table_prep import TableMap, parse_map

__all__ = [
    "LOW_CONFIDENCE",
    "MATCH_THRESHOLD",
    "LinkOptions",
    "LinkReport",
    "TableOptions",
    "TableMap",
    "TableReport",
    "evaluate_against_truth",
    "id_corrections",
    "link",
    "link_tables",
    "normalize_name",
    "pairwise_counts",
    "parse_map",
]
