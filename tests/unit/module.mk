# tests/unit/: sources of programs that unit tests link besides the libraries.
test-policy_EXTRA := policy/registry.c policy/penalty.c policy/counters.c
