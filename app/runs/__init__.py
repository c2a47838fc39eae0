"""Runs as the playground keeps them: the bounded store, validation of what a learner types,
the browser's result and its comparison with the prediction, share links and the one way a
request is refused. Pure Python over ``app.cors``: never a web framework."""
