"""The calibration of :mod:`modeq.cost`: CPU seconds measured on the project's
reference machine (2 shared cores, Python 3.11) by ``benchmarks/cost.py``,
pasted from its output."""

#: Derivation, CPU seconds of each order 0, 1, ... (until an order took the budget, or
#: three times the budget of wall time passed without one, or order 12), measured again on
#: 2026-12-01 after the kernel's polynomial-ring sums (73396b4, 2871bb0, a46000a: heavy ball's
#: symbolic order 8 went from 28.9 to 7.6 s, so the rows measured before were up to 3x
#: high) and the canonical atom forms (a69103f), every built-in in both modes with
#: ``benchmarks/cost.py --only derive --budget 6 --modes symbolic`` and ``--modes numeric``
#: (two processes on the 2 cores, load 1-4); NAdam's symbolic order 3 (33.9 s: the budget
#: stops its row at order 2) from one ``derive(get("nadam"), order=3)`` of the same code:
#: ``(optimizer, "symbolic" | "numeric", regime) -> seconds``.
DERIVE: dict[tuple[str, str, str], tuple[float, ...]] = {
    ('gd', 'symbolic', 'stationary'): (0.0262, 0.0014, 0.001, 0.0014, 0.0025, 0.0045, 0.0121, 0.0342, 0.1769, 0.2912,
                                       1.1378, 3.988),
    ('gd', 'numeric', 'stationary'): (0.0375, 0.0019, 0.002, 0.0026, 0.0046, 0.008, 0.0202, 0.0356, 0.1433, 0.2479,
                                      1.1961, 4.0162),
    ('heavy_ball', 'symbolic', 'stationary'): (0.0287, 0.0083, 0.0094, 0.0198, 0.0514, 0.1366, 0.4719, 1.4379, 4.8434),
    ('heavy_ball', 'numeric', 'stationary'): (0.0264, 0.0019, 0.002, 0.0037, 0.0058, 0.0102, 0.0212, 0.0492, 0.1752,
                                              0.4611, 1.528, 5.3016),
    ('heavy_ball_ema', 'symbolic', 'stationary'): (0.0209, 0.0087, 0.0157, 0.0332, 0.0739, 0.1761, 0.6071, 1.7031,
                                                   6.0212),
    ('heavy_ball_ema', 'numeric', 'stationary'): (0.0275, 0.0091, 0.0092, 0.0131, 0.026, 0.0283, 0.0476, 0.1004, 0.2665,
                                                  0.6355, 2.1923),
    ('nesterov', 'symbolic', 'stationary'): (0.0267, 0.0099, 0.0142, 0.0321, 0.0882, 0.2561, 0.8814, 2.9775),
    ('nesterov', 'numeric', 'stationary'): (0.0237, 0.0026, 0.0029, 0.0045, 0.0083, 0.0153, 0.0307, 0.0868, 0.2969,
                                            1.0152, 4.4808),
    ('rmsprop', 'symbolic', 'stationary'): (0.0333, 0.0182, 0.0433, 0.1475, 1.1669),
    ('rmsprop', 'numeric', 'stationary'): (0.0282, 0.0153, 0.0349, 0.2223, 3.9025),
    ('adam', 'symbolic', 'stationary'): (0.0315, 0.0215, 0.068, 0.3345, 2.9992),
    ('adam', 'numeric', 'stationary'): (0.0307, 0.0182, 0.0397, 0.2256, 4.2179),
    ('adamw', 'symbolic', 'stationary'): (0.0314, 0.0316, 0.1915, 2.7367),
    ('adamw', 'numeric', 'stationary'): (0.0302, 0.0211, 0.0799, 1.3749),
    ('sam', 'symbolic', 'stationary'): (0.0389, 0.016, 0.0229, 0.0436, 0.105, 0.3881, 1.9554),
    ('sam', 'numeric', 'stationary'): (0.0241, 0.0072, 0.0093, 0.0209, 0.0505, 0.2053, 1.4527, 8.7935),
    ('usam', 'symbolic', 'stationary'): (0.0205, 0.0023, 0.0042, 0.0096, 0.0253, 0.0774, 0.2783, 0.7633, 2.9343,
                                         9.5551),
    ('usam', 'numeric', 'stationary'): (0.021, 0.0012, 0.0012, 0.0017, 0.0028, 0.0069, 0.0123, 0.0305, 0.1383, 0.2657,
                                        1.1603, 3.8798, 11.3596),
    ('signum', 'symbolic', 'stationary'): (0.0257, 0.0138, 0.0287, 0.0951, 0.6064, 4.6026),
    ('signum', 'numeric', 'stationary'): (0.0332, 0.0134, 0.0291, 0.1789, 3.4023),
    ('lion', 'symbolic', 'stationary'): (0.0398, 0.0334, 0.189, 1.394),
    ('lion', 'numeric', 'stationary'): (0.0336, 0.0134, 0.0316, 0.1946, 3.7696),
    # Lookahead (k = 5) nests its inner steps: costed like no other built-in (``--names lookahead``)
    ('lookahead', 'symbolic', 'stationary'): (0.3049, 0.3395, 9.2776),
    ('lookahead', 'numeric', 'stationary'): (0.2634, 0.1249, 0.3044, 1.1285),
    ('adabelief', 'symbolic', 'stationary'): (0.0459, 0.0499, 0.3231, 2.9701),
    ('adabelief', 'numeric', 'stationary'): (0.0315, 0.0182, 0.0381, 0.0509, 0.1553, 0.782, 5.175),
    ('adan', 'symbolic', 'stationary'): (0.041, 0.084, 2.5833),
    ('adan', 'numeric', 'stationary'): (0.0454, 0.0297, 0.0734, 0.4382, 7.9608),
    ('ademamix', 'symbolic', 'stationary'): (0.0506, 0.1646, 8.2059),
    ('ademamix', 'numeric', 'stationary'): (0.0353, 0.0181, 0.043, 0.2297, 4.3593),
    ('qhadam', 'symbolic', 'stationary'): (0.043, 0.0382, 0.3738, 6.1313),
    ('qhadam', 'numeric', 'stationary'): (0.0425, 0.0191, 0.053, 0.3398, 7.4493),
    ('qhm', 'symbolic', 'stationary'): (0.0208, 0.0076, 0.0166, 0.0275, 0.0687, 0.2222, 0.8076, 3.27),
    ('qhm', 'numeric', 'stationary'): (0.0203, 0.0064, 0.0068, 0.0111, 0.0167, 0.0225, 0.0401, 0.0713, 0.1984, 0.4895,
                                       1.6198, 4.8942),
    ('polyak', 'symbolic', 'stationary'): (0.0277, 0.0099, 0.0448, 0.4141, 4.1972),
    ('polyak', 'numeric', 'stationary'): (0.024, 0.0054, 0.011, 0.0303, 0.1261, 0.7967, 4.7777),
    ('adagrad', 'symbolic', 'stationary'): (0.0311, 0.0099, 0.0139, 0.0237, 0.0571, 0.1579, 0.7307, 5.4564),
    ('adagrad', 'numeric', 'stationary'): (0.025, 0.0082, 0.012, 0.0179, 0.0467, 0.1548, 0.7248, 4.6842),
    ('schedule_free_sgd', 'symbolic', 'stationary'): (0.0437, 0.0312, 0.078, 0.25, 1.5536, 9.0854),
    ('schedule_free_sgd', 'numeric', 'stationary'): (0.0552, 0.0264, 0.0253, 0.0325, 0.0727, 0.254, 1.1042, 7.9117),
    ('schedule_free_adamw', 'symbolic', 'stationary'): (0.0817, 0.2235, 5.627),
    ('schedule_free_adamw', 'numeric', 'stationary'): (0.0829, 0.0642, 0.2713, 6.0793),
    ('adam_warmup_cosine', 'symbolic', 'stationary'): (0.0671, 0.0322, 0.1058, 1.2358),
    ('adam_warmup_cosine', 'numeric', 'stationary'): (0.0548, 0.0237, 0.1692, 3.2649),
    ('nadam', 'symbolic', 'stationary'): (0.0535, 0.0512, 0.8475, 33.8978),
    ('nadam', 'numeric', 'stationary'): (0.0508, 0.0322, 0.0921, 0.6706),
    ('ademamix_warmup', 'symbolic', 'stationary'): (0.0626, 0.107, 4.4488),
    ('ademamix_warmup', 'numeric', 'stationary'): (0.0688, 0.0377, 0.52),
    ('lars', 'symbolic', 'stationary'): (0.0314, 0.0418, 0.4252, 8.9314),
    ('lars', 'numeric', 'stationary'): (0.0272, 0.0136, 0.0264, 0.0758, 0.5112, 6.1811),
    ('lamb', 'symbolic', 'stationary'): (0.0458, 0.0677, 1.3836),
    ('lamb', 'numeric', 'stationary'): (0.0431, 0.0362, 0.1254, 1.7285),
    ('muon', 'symbolic', 'stationary'): (0.0306, 0.0186, 0.1063, 1.3805),
    ('muon', 'numeric', 'stationary'): (0.0291, 0.0146, 0.041, 0.3213, 4.0478),
    ('shampoo', 'symbolic', 'stationary'): (0.0277, 0.0102, 0.0272, 0.1437, 1.4141, 16.7061),
    ('shampoo', 'numeric', 'stationary'): (0.0294, 0.005, 0.0109, 0.0298, 0.1531, 0.9725, 8.0032),
    ('shampoo_ema', 'symbolic', 'stationary'): (0.0418, 0.0306, 0.1675, 2.5717),
    ('shampoo_ema', 'numeric', 'stationary'): (0.0202, 0.0073, 0.0144, 0.0614, 0.4909, 5.6725),
    ('heavy_ball', 'symbolic', 'exact'): (0.0343, 0.0604, 0.8239, 11.4835),
    ('heavy_ball', 'numeric', 'exact'): (0.0299, 0.0268, 0.1752, 0.6447, 4.7931),
    ('rmsprop', 'symbolic', 'exact'): (0.2631,),
    ('rmsprop', 'numeric', 'exact'): (0.0349,),
    ('adam', 'symbolic', 'exact'): (0.3775, 0.5191),
    ('adam', 'numeric', 'exact'): (0.0559, 0.135),
}
#: Step-by-step fields of ``derive_steps`` (3 batches), CPU seconds of each
#: step 0, 1, ... (``benchmarks/cost.py --only steps --budget 6``, 2026-12-01, numeric
#: fields in the distributed form; AdaBelief and QHM, numeric at order 1, with ``--only steps
#: --modes numeric --budget 4 --names adabelief qhm nadam adan polyak``, whose Adan and Polyak
#: validate the model: ``tests/test_cost_model.py``; NAdam's time-varying decay has no
#: per-step form): ``(optimizer, "symbolic" | "numeric", order) -> seconds``.
STEPS: dict[tuple[str, str, int], tuple[float, ...]] = {
    ('heavy_ball', 'numeric', 1): (
        0.0207, 0.0019, 0.0026, 0.0025, 0.0023, 0.0026, 0.0034, 0.0023, 0.0031, 0.0025, 0.0025, 0.0023, 0.0024, 0.003,
        0.0024, 0.0037, 0.0031, 0.0028, 0.004, 0.0039, 0.0026, 0.0028, 0.0027, 0.0024, 0.0029, 0.0027, 0.0023, 0.0027,
        0.0025, 0.0026, 0.0023, 0.0026, 0.0024, 0.0026, 0.0025, 0.0035, 0.0025, 0.0026, 0.0023, 0.0027, 0.0026, 0.0025,
        0.0026, 0.0026, 0.0024, 0.0026, 0.0026, 0.0026, 0.0025, 0.0025, 0.0025, 0.0027, 0.0036, 0.0036, 0.0037, 0.0028,
        0.0026, 0.0027, 0.003, 0.0061, 0.0031, 0.0027, 0.0026, 0.0026
    ),
    ('heavy_ball', 'symbolic', 1): (
        0.0207, 0.008, 0.0104, 0.0135, 0.0141, 0.023, 0.0218, 0.0278, 0.0341, 0.0406, 0.0455, 0.0738, 0.0697, 0.0799,
        0.1053, 0.1006, 0.1109, 0.1794, 0.1639, 0.1298, 0.1874, 0.1661, 0.2047, 0.3644, 0.2238, 0.2904, 0.3679, 0.34,
        0.3638, 1.5505, 0.5148, 0.5253, 0.5926, 0.4666, 0.5329, 1.1263, 0.6224, 0.6796, 0.9138, 0.71, 0.9533, 4.5071,
        0.928, 1.1279, 2.0181, 1.2729, 1.2749, 3.0825, 1.4733, 1.5841, 2.1363, 1.9707, 1.9512, 3.6442, 2.0291, 2.137,
        3.4341, 2.5914, 2.3944
    ),
    ('heavy_ball', 'numeric', 2): (
        0.0227, 0.0057, 0.0118, 0.0113, 0.0125, 0.0112, 0.0112, 0.0122, 0.0119, 0.0115, 0.0129, 0.0139, 0.0129, 0.0153,
        0.0145, 0.0629, 0.0124, 0.0124, 0.0139, 0.011, 0.0116, 0.0119, 0.0147, 0.0123, 0.0139, 0.0127, 0.0153, 0.0118,
        0.013, 0.0123, 0.017, 0.0132, 0.014, 0.0132, 0.0133, 0.0161, 0.0145, 0.0131, 0.0125, 0.0163, 0.0148, 0.0132,
        0.0146, 0.0137, 0.0154, 0.0134, 0.0144, 0.0137, 0.0172, 0.014, 0.0136, 0.0142, 0.0137, 0.0168, 0.0142, 0.0139,
        0.0136, 0.0174, 0.0138, 0.0135, 0.0137, 0.0134, 0.1063, 0.0132
    ),
    ('heavy_ball', 'symbolic', 2): (
        0.0264, 0.0197, 0.0541, 0.0896, 0.158, 0.2466, 0.2665, 0.3455, 0.3683, 0.521, 0.7218, 0.746, 0.8757, 1.1459,
        1.1739, 1.3664, 1.6896, 1.6451, 1.9057, 2.1395, 2.4674, 2.9471, 3.5459, 3.7575, 3.9129, 4.6643, 4.539, 5.5995,
        6.5373
    ),
    ('adam', 'numeric', 1): (
        0.0336, 0.0189, 0.0262, 0.0216, 0.0266, 0.016, 0.0254, 0.0286, 0.0209, 0.0307, 0.0856, 0.0232, 0.0313, 0.0341,
        0.0253, 0.0376, 0.0398, 0.0297, 0.0442, 0.0535, 0.0371, 0.0466, 0.124, 0.0375, 0.0489, 0.0508, 0.0421, 0.0528,
        0.0567, 0.0482, 0.1582, 0.0558, 0.049, 0.0614, 0.0666, 0.1784, 0.0645, 0.0714, 0.0586, 0.068, 0.2247, 0.0679,
        0.08, 0.082, 0.2227, 0.0729, 0.0751, 0.0629, 0.2636, 0.0839, 0.0755, 0.1094, 0.103, 0.3049, 0.0955, 0.1002,
        0.0861, 0.3689, 0.1064, 0.1001, 0.1072, 0.1106, 0.363, 0.1102
    ),
    ('adam', 'symbolic', 1): (0.0451, 0.1229, 0.3714, 0.9755, 1.7687, 2.4576, 5.1707, 7.3),
    ('adam', 'numeric', 2): (
        0.0407, 0.0694, 0.371, 0.7513, 1.0794, 1.1713, 2.0905, 2.9274, 2.7741, 3.894, 5.567, 4.4965, 6.6681
    ),
    ('adam', 'symbolic', 2): (0.0556, 2.6097),
    ('adabelief', 'numeric', 1): (
        0.0445, 0.035, 0.0469, 0.0499, 0.056, 0.0593, 0.1101, 0.0898, 0.0878, 0.0928, 0.1003, 0.1658, 0.1196, 0.1942,
        0.1477, 0.1487, 0.2495, 0.3011, 0.3204, 0.2167, 0.3328, 0.4085, 0.4303, 0.4491, 0.4612, 0.5411, 0.3588, 0.5617,
        0.6232, 0.6704, 0.7719, 0.7458, 0.7717, 0.7803, 0.8338, 1.0143, 0.9762, 1.0288, 1.0536, 1.1413, 1.2223, 1.2562,
        1.7641, 1.0757, 1.8401, 0.9655, 1.865, 1.4992, 1.1205, 2.1854, 1.7925, 1.88, 2.1529, 2.1751, 2.307, 2.4299,
        2.5465, 2.6348, 2.728, 3.6156, 2.9924, 3.066, 3.14, 3.2793
    ),
    ('qhm', 'numeric', 1): (
        0.0259, 0.0025, 0.0031, 0.0044, 0.0028, 0.0034, 0.0043, 0.0033, 0.0031, 0.0029, 0.005, 0.0031, 0.0029, 0.003,
        0.0032, 0.0041, 0.0032, 0.0035, 0.003, 0.003, 0.003, 0.0029, 0.0032, 0.0033, 0.0037, 0.0058, 0.0032, 0.0031,
        0.0049, 0.0035, 0.0034, 0.0032, 0.003, 0.0037, 0.0034, 0.0034, 0.0035, 0.0035, 0.0038, 0.0034, 0.0034, 0.0033,
        0.0037, 0.0036, 0.0035, 0.0041, 0.0036, 0.0042, 0.007, 0.0037, 0.0038, 0.0036, 0.0044, 0.0042, 0.0037, 0.0038,
        0.0034, 0.0042, 0.0035, 0.0042, 0.0041, 0.0036, 0.0044, 0.0041
    ),
}
#: Materializing, generating and compiling the field for a loss whose Hessian
#: pattern has ``coupled`` entries (numeric defaults), numba's compilation at the
#: first calls of its terms and its flow included (most of the time for the
#: larger fields, and what ``verify`` pays before its runs): ``benchmarks/cost.py
#: --only compile``, 2026-12-01, after the kernel's speedups of issue 17; Muon and
#: Shampoo (matrix maps: the Newton-Schulz stages, the Kronecker factors' inverse
#: roots) on the two-layer linear network 1/2 |W2 W1 - A|^2, its 2x2 blocks (48)
#: and its 3x2 and 2x3 ones (108): ``(optimizer, order, coupled) -> seconds``.
COMPILE: dict[tuple[str, int, int], float] = {
    ("gd", 1, 12): 3.352, ("gd", 1, 48): 3.618, ("gd", 1, 192): 5.967,  # chain
    ("gd", 1, 16): 3.658, ("gd", 1, 64): 3.956, ("gd", 1, 256): 4.544, ("gd", 1, 1024): 9.309,  # dense
    ("gd", 1, 4096): 32.3,  # dense, p = 64 (alone: benchmarks/cost.py's COMPILE_PROBE)
    ("adam", 1, 16): 3.291, ("adam", 1, 64): 3.625, ("adam", 1, 256): 4.445,  # dense
    ("gd", 2, 16): 3.409, ("gd", 2, 64): 4.192, ("gd", 2, 256): 6.329,  # dense
    ("muon", 1, 48): 6.532, ("muon", 1, 108): 7.33, ("muon", 2, 108): 20.472,  # two-layer network
    ("shampoo", 1, 48): 15.102, ("shampoo", 2, 48): 22.779,  # two-layer network, square blocks
    # layerwise norms on the two-layer network (2026-12-01, after code generation stopped walking the terms'
    # trees: LAMB's order 2 is a 5153-node DAG of 1.9e8 tree nodes, and took > 140 s before)
    ("lars", 1, 108): 5.006, ("lars", 2, 108): 8.17, ("lamb", 1, 108): 5.907, ("lamb", 2, 108): 15.626,
    ("lamb", 3, 108): 387.554,  # alone; numba compiles its 20478-line terms (order 2: 1779 lines)
}

