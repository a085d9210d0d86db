"""Capacity: cloud quotas, demand, simulation, planning and live windows.

quota     reads each region's limits through openstacksdk
schedule  max-servers and min-ready per name over the hours of a week
demand    node requests from Zuul's builds API, CSV or a synthetic week
simulate  a discrete-event simulation of requests against providers
plan      max-servers and min-ready per window that meet a wait SLO at
          least cost, on weeks the plan was not fitted to
merge     a plan's windows merged into the inventory it came from
compare   scenarios (inventory, full quota, static, plan) simulated on
          the same demand, side by side
report    PNG plots and a Markdown page
nodepool_apply
          the Nodepool launcher config for an instant, written only
          when valid
zuul_launcher_apply
          the same capacity as a zuul-launcher config change
show      the commands' text tables and JSON
cli, zuul_launcher_cli, options
          the command line: options, printing and exit codes

When a window holds and which wins is the model's (``model.Window``);
how many servers a quota allows is ``sizing``'s.
"""
