"""The attacker's origin: a third port of the playground whose page really runs the exploit in
the learner's browser (``routes``): a credentialed ``fetch()`` to the victim API, the same from
a sandboxed frame, and one without cookies, then a report of what the script could read back to
the attacker's log. Its pages reach only the playground's own origins (the attacker CSP)."""
