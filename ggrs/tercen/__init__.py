"""Tercen's side of the operator: channel, client, retries, task context, data and result.

Nothing here draws: this package never imports the composition layer or Pillow
(checked by tests/test_layering.py). ``ggrs.operator`` joins it to the pipeline.
"""
