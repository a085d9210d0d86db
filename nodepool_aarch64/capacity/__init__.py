"""Capacity: cloud quotas, demand, simulation, planning and live windows.

quota     reads each region's limits through openstacksdk
schedule  max-servers per provider over the hours of a week
demand    node requests from Zuul's builds API, CSV or a synthetic week
simulate  a discrete-event simulation of requests against providers
plan      max-servers and min-ready per window that meet a wait SLO at
          least cost, on weeks the plan was not fitted to
merge     a plan's windows merged into the inventory it came from
report    PNG plots and a Markdown page
apply     the launcher config for an instant, written only when valid
"""
