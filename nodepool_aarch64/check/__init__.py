"""Check any Nodepool + Zuul config set for the mistakes that break jobs.

configset is the graph of the files (read by ``formats.configset``) with
what rules derive from the whole set, validate runs Nodepool's own
validator, rules/ holds one small function per finding code, facts adapts
the inventory's cloud facts, runner ties them together and report prints.
"""
