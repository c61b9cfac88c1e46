"""What the bank does on its own, on the injected clock: the outbox dispatcher
(``dispatcher``), deferred event handlers (``deferred``), the scheduled jobs (``jobs``,
``schedules``) and the loop that runs whatever is due (``runner``), with a lease per job and a
record of every run (``leases``). ``yibaodai worker`` runs one; ``yibaodai serve`` embeds one."""
