# Tiers that hammer a real covoit server: kill -9 under write load, seat races, the authorization matrix.
# Each has a short form in the default run and a long one labelled slow (ctest -L slow).
