"""``custodia synth``: a synthetic nation, reproducible from a seed (issue 7).

- ``nation``: every state with its municipalities (weighted by population), institutions of
  every kind, one capture user per institution, and each police institution's habits: its own
  deliberate quality problems for the monthly report to find.
- ``generate``: detentions with Mexican names (Faker's es_MX lists), custody chains and delays,
  and every row a real registration writes: the person, the officers, the holders, the custody
  events, their ledger leaves and the Merkle nodes they complete.
- ``load``: writes the rows (COPY on PostgreSQL, with the generation in a second process;
  executemany on SQLite), then the derived tables: the name index, the report's counts and a
  signed checkpoint.
"""
