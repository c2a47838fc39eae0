"""Labs that need two real origins: the preflight cache, redirects, credentials and cookies.

Each lab is a page on the site origin within a session. The learner's own browser sends every
request with plain ``fetch()``; the API origin answers and records each leg exactly as for a
composer run; the lab's card explains what actually arrived. A lab keeps its runs in a lab
session of its own, whose id is derived from the session's (an HMAC, so it is as unguessable as
the session id): the lab gets its own event stream and server console, the bounds of any
session, and never crowds the composer's list of runs.

- ``registry``: the labs, their choices and bounds, the lab session id, what a send stores;
- ``cache``, ``redirects``, ``cookies``: for each lab, the run a form asks for, and the view of
  what arrived (legs, findings and the sentences that explain them);
- ``text``: those sentences and their references, as data.

Pure Python over ``app.cors`` and ``app.runs``: never a web framework. The pages are
app/web/labs.py.
"""

from app.labs.registry import LABS, Lab, LabRun, lab_session_id
from app.labs.text import Point

__all__ = ["LABS", "Lab", "LabRun", "Point", "lab_session_id"]
