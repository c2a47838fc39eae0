"""The API origin: the recording target (``target``) and its live server console
(``console``)."""
