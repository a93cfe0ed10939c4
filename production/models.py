# Work centers, routings, work orders and the schedule arrive with the production issue.
