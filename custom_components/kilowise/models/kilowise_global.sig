{
  "algorithm": "ed25519",
  "key_id": "4e42f3c3ca7a0da7",
  "signature": "tJB4b4RiGAjmFJQuOOKr690A/crZQ1zSMUGZpXbM1CugPKNlfIyyz3oCWljt/9SBbP3KU648k4KHqriO3sK9Cg=="
}
