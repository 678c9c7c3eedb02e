"""The paper wing: ``boolgrad reproduce`` and what it uses -- :mod:`.results` (one reader of
the results files), :mod:`.numbers` (every number and generated table of the paper),
:mod:`.style` (the figures' shared style) and :mod:`.reproduce` (the command).

Nothing here trains or recomputes an experiment: figures, tables and numbers read results
files (``RESULTS/study``, ``RESULTS/seeds``) and closed-form gradient tables.
"""
