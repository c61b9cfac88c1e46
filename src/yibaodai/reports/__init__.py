"""The report platform's read side (DESIGN step 9): the one data-scope resolver, labels and
formatting for people, masking, and one module per page. Nothing here commits: the audit rows
of unmasked personal-data views are written in the caller's unit of work, and the route that
answers commits them."""
