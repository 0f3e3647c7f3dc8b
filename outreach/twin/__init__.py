"""The county twin: the whole system run month after month against the simulated county.

- :mod:`outreach.twin.policies`: the policies compared (status quo, rules, model, oracle);
- :mod:`outreach.twin.loop`: one policy's run (a shared checkpoint after 2025-12, then the
  monthly loop: list → the world visits → outcomes through the service → export → ingest →
  ``outreach month``), resumable after a kill;
- :mod:`outreach.twin.oracle`: the evaluation's reference lists (the only list built from the
  truth);
- :mod:`outreach.twin.outcomes`: what a policy did for people, from the truth (evaluation only);
- :mod:`outreach.twin.compare`: policies on the same worlds, paired differences over seeds.

The truth stays on the world's side: the pipeline's workspace holds only deliveries
(``data/raw/agencies``); the truth, the county checkpoint and the logged lists live beside it.
See docs/twin.md.
"""
