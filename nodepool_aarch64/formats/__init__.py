"""Every outside format, read and written in one place for every command.

The floor below the features (render, check, capacity, readiness,
imagecheck, kolla): it imports only the leaves (``errors``,
``timeutil``) and the engine wrappers, never a feature.

readfile    regular files only, bounded, never blocking
yamlutil    YAML in: one document or several, with lines, keys unique
yamltext    YAML out: stable, readable, yamllint-clean
write       atomic writes of one file or a set, all or none
texttable   plain-text tables
zuulbuilds  Zuul's builds API JSON: the one parser of a build
zuulweb     the one client of zuul-web's REST API
configset   Nodepool and Zuul config files read into one graph
findings    the one result type checks produce
"""
