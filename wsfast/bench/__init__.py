"""``wsfast bench``'s tooling, apart from the protocol modules: ``impls``
(what each suite compares: wsfast's kernels, pure Python, the peers) and
``report`` (the tables, JSON and plot)."""
