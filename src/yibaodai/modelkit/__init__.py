"""The model workbench: building, validating and monitoring whitelist model versions
(docs/modelkit.md).

rows:      ``samples`` (observations, CSV), ``simulated`` (the development sample), ``table``
build:     ``catalogue`` -> ``binning`` -> ``selection`` -> ``regression`` -> ``build``
measure:   ``scoring``, ``metrics``, ``validation``, ``backtest``, ``monitoring``,
           ``benchmark``
hand over: ``export`` (into ``admission.versions``' approval flow), ``excel``

Nothing is re-exported here: importing one module does not load optbinning and scikit-learn
unless it needs them.
"""
