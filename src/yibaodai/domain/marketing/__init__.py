"""Pure rules of marketing (批量营销): reading the cells of the bureau's list of designated
institutions, recognising its layout, matching duplicates, outreach states, the campaign funnel
and balancing prospects over client managers. No I/O: the services in ``yibaodai.marketing``
read files and the database and call these."""
