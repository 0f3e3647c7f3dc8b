"""Personal-information duties (PIPL): a person's access request (:mod:`.subject_report`)."""
