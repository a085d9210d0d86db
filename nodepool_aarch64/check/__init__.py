"""Check any Nodepool + Zuul config set for the mistakes that break jobs.

configset reads the files into one graph, validate runs Nodepool's own
validator, rules/ holds one small function per finding code, facts adapts
the inventory's cloud facts, runner ties them together and report prints.
"""
