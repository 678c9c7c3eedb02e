"""The seed experiments (issue 11): the systems of seeds 000-003 (docs/seeds_experiments.md), run through
the study's executor (:func:`boolgrad.study.executor.sweep`, one JSON result per config hash).

* :mod:`.seed000` -- the weight-nudging rule for threshold units vs perceptron, the additive rules
  and backprop (why nudging cannot learn: :mod:`boolgrad.proofs.nudging_direction`);
* :mod:`.seed002` -- multi-threshold vs central-threshold networks (the blog's table), batched,
  and their spiking versions;
* :mod:`.seed003` -- the halving neuron with a learnable threshold (and leak) vs LIF;
* seed 001 (straight-through, smooth surrogates) appears as kinds in all of them;
* :mod:`.grids` (the quick and full grids), :mod:`.report` (CSV, ``seeds.md``, plots),
  :mod:`.cli` (``boolgrad study seeds``);
* :mod:`.protocol` (seeds 000, 002 and 003 under the study's protocol: ``--protocol``), its report
  :mod:`.protocol_report` (``seeds_protocol.md``) and :mod:`.images` (``digits_affine``, the
  offline MNIST stand-in).

numpy-only at import; torch is imported inside the functions that train.
"""
