this is not sieve;
