"""The calibration of :mod:`modeq.cost`: CPU seconds measured on the project's
reference machine (2 shared cores, Python 3.11) by ``benchmarks/cost.py``,
pasted from its output."""

#: Derivation, CPU seconds of each order 0, 1, ... (until an order took the budget, or
#: three times the budget of wall time passed without one, or order 12), measured on the
#: loaded shared machine on 2026-12-01 after the kernel's speedups of issue 17: the twelve
#: first built-ins with ``benchmarks/cost.py --only derive --budget 6`` (GD, heavy ball,
#: its EMA form, Nesterov and USAM up to order 12; the earlier table was about 5x too high
#: at GD order 8, 6x at order 12); the later ones and those on parameter blocks (AdaBelief
#: to shampoo_ema) with ``--budget 8 --names adabelief ... shampoo_ema``, and the symbolic
#: AdEMAMix, QHAdam, NAdam and LARS, whose order 2 or 3 the wall limit cut, again with
#: ``--budget 40 --modes symbolic --names ademamix qhadam nadam lars``; the order 0 of the
#: later ones once more with ``--orders 1 --budget 5 --names adabelief ... shampoo_ema`` (the
#: first pass's included the estimator's own search for the nearest measured built-in, 0.3 s):
#: ``(optimizer, "symbolic" | "numeric", regime) -> seconds``.
DERIVE: dict[tuple[str, str, str], tuple[float, ...]] = {
    ('gd', 'symbolic', 'stationary'): (0.0215, 0.0011, 0.0011, 0.0015, 0.0027, 0.0062, 0.0128, 0.0378, 0.1639, 0.328,
                                       1.3281, 4.2179),
    ('gd', 'numeric', 'stationary'): (0.0206, 0.0011, 0.0009, 0.0014, 0.0026, 0.0058, 0.013, 0.0352, 0.1908, 0.3521,
                                      1.3752, 4.9394),
    ('heavy_ball', 'symbolic', 'stationary'): (0.0241, 0.008, 0.0065, 0.0164, 0.0591, 0.2375, 0.9239, 4.3936),
    ('heavy_ball', 'numeric', 'stationary'): (0.0208, 0.0013, 0.0017, 0.0025, 0.0039, 0.0088, 0.0189, 0.0537, 0.1812,
                                              0.4768, 1.6981, 5.4565),
    ('heavy_ball_ema', 'symbolic', 'stationary'): (0.0188, 0.0081, 0.0136, 0.0214, 0.0556, 0.1694, 0.6784, 3.236),
    ('heavy_ball_ema', 'numeric', 'stationary'): (0.0194, 0.0063, 0.007, 0.0096, 0.0194, 0.0237, 0.0444, 0.0897,
                                                  0.2619, 0.6841, 2.2442, 7.4977),
    ('nesterov', 'symbolic', 'stationary'): (0.0212, 0.0077, 0.0083, 0.0232, 0.0889, 0.431, 1.8923),
    ('nesterov', 'numeric', 'stationary'): (0.023, 0.0022, 0.0024, 0.0036, 0.0075, 0.0136, 0.0298, 0.0815, 0.2957,
                                            1.093, 4.6701),
    ('rmsprop', 'symbolic', 'stationary'): (0.0344, 0.0176, 0.043, 0.1387, 1.0547),
    ('rmsprop', 'numeric', 'stationary'): (0.0265, 0.0129, 0.0285, 0.2203, 4.316),
    ('adam', 'symbolic', 'stationary'): (0.0324, 0.0216, 0.0648, 0.3758, 3.7177),
    ('adam', 'numeric', 'stationary'): (0.0272, 0.0141, 0.0328, 0.2425, 4.5169),
    ('adamw', 'symbolic', 'stationary'): (0.0329, 0.0264, 0.17, 2.1611),
    ('adamw', 'numeric', 'stationary'): (0.0328, 0.0183, 0.0689, 1.2265),
    ('sam', 'symbolic', 'stationary'): (0.0252, 0.0079, 0.0099, 0.0218, 0.0626, 0.2809, 1.5436),
    ('sam', 'numeric', 'stationary'): (0.0239, 0.0108, 0.0075, 0.0133, 0.0413, 0.1769, 1.2909),
    ('usam', 'symbolic', 'stationary'): (0.0193, 0.0025, 0.0032, 0.0074, 0.021, 0.0742, 0.347, 1.5671, 8.1832),
    ('usam', 'numeric', 'stationary'): (0.0205, 0.0013, 0.0012, 0.0021, 0.0032, 0.0081, 0.0156, 0.0418, 0.1712,
                                        0.3365, 1.363, 4.6789),
    ('signum', 'symbolic', 'stationary'): (0.0314, 0.0155, 0.0353, 0.0993, 0.6744, 5.5645),
    ('signum', 'numeric', 'stationary'): (0.0289, 0.0153, 0.0338, 0.2403),
    ('lion', 'symbolic', 'stationary'): (0.0419, 0.0352, 0.2304, 1.871),
    ('lion', 'numeric', 'stationary'): (0.0395, 0.0166, 0.0372, 0.2758),
    # Lookahead (k = 5) nests its inner steps: costed like no other built-in (``--names lookahead``);
    # its symbolic order 2 (10.3 s) measured alone, the benchmark's wall limit cut it on the loaded machine
    ('lookahead', 'symbolic', 'stationary'): (0.3021, 0.2972, 10.3398),
    ('lookahead', 'numeric', 'stationary'): (0.2937, 0.1513, 0.4741, 3.0602),
    ('adabelief', 'symbolic', 'stationary'): (0.0485, 0.0503, 0.329, 3.0026),
    ('adabelief', 'numeric', 'stationary'): (0.0344, 0.0174, 0.0289, 0.0602, 0.1893, 0.7915, 5.6499),
    ('adan', 'symbolic', 'stationary'): (0.0445, 0.0968, 2.7754),
    ('adan', 'numeric', 'stationary'): (0.0437, 0.0447, 0.0948, 0.7801),
    ('ademamix', 'symbolic', 'stationary'): (0.042, 0.1458, 7.9133),
    ('ademamix', 'numeric', 'stationary'): (0.0423, 0.028, 0.0636, 0.3819),
    ('qhadam', 'symbolic', 'stationary'): (0.0624, 0.0449, 0.4284, 6.6513),
    ('qhadam', 'numeric', 'stationary'): (0.043, 0.0206, 0.0491, 0.4282),
    ('qhm', 'symbolic', 'stationary'): (0.0237, 0.0085, 0.0185, 0.0297, 0.0898, 0.4365, 1.6164, 7.6892),
    ('qhm', 'numeric', 'stationary'): (0.0272, 0.0056, 0.008, 0.013, 0.0182, 0.0292, 0.0523, 0.1678, 0.2858, 0.8015,
                                       2.9006),
    ('polyak', 'symbolic', 'stationary'): (0.0313, 0.0139, 0.0871, 0.5643, 5.9789),
    ('polyak', 'numeric', 'stationary'): (0.028, 0.006, 0.0143, 0.0329, 0.1501, 1.0415),
    ('adagrad', 'symbolic', 'stationary'): (0.0292, 0.0125, 0.0156, 0.0263, 0.0658, 0.242, 0.8604),
    ('adagrad', 'numeric', 'stationary'): (0.0356, 0.0134, 0.0171, 0.0278, 0.0733, 0.2904, 1.0272, 6.643),
    ('schedule_free_sgd', 'symbolic', 'stationary'): (0.0538, 0.0388, 0.0879, 0.4251, 3.1807),
    ('schedule_free_sgd', 'numeric', 'stationary'): (0.046, 0.0255, 0.032, 0.0404, 0.1149, 0.392, 1.5492, 8.2876),
    ('schedule_free_adamw', 'symbolic', 'stationary'): (0.0953, 0.2189, 6.013),
    ('schedule_free_adamw', 'numeric', 'stationary'): (0.0813, 0.0644, 0.2562, 5.8297),
    ('adam_warmup_cosine', 'symbolic', 'stationary'): (0.0545, 0.0301, 0.1178, 1.3968),
    ('adam_warmup_cosine', 'numeric', 'stationary'): (0.0491, 0.0325, 0.2986, 6.6538),
    ('nadam', 'symbolic', 'stationary'): (0.0556, 0.0522, 0.8591, 37.1349),
    ('nadam', 'numeric', 'stationary'): (0.0667, 0.0324, 0.0952, 0.93),
    ('ademamix_warmup', 'symbolic', 'stationary'): (0.0811, 0.1111, 4.7245),
    ('ademamix_warmup', 'numeric', 'stationary'): (0.0768, 0.0739, 0.6004),
    ('lars', 'symbolic', 'stationary'): (0.0375, 0.0436, 0.4509, 10.6424),
    ('lars', 'numeric', 'stationary'): (0.038, 0.0202, 0.0301, 0.0845, 0.6004, 7.6641),
    ('lamb', 'symbolic', 'stationary'): (0.0616, 0.078, 1.5488),
    ('lamb', 'numeric', 'stationary'): (0.0515, 0.0547, 0.1796, 2.8291),
    ('muon', 'symbolic', 'stationary'): (0.0339, 0.0352, 0.1829, 3.3054),
    ('muon', 'numeric', 'stationary'): (0.0374, 0.0162, 0.0499, 0.4889, 7.4966),
    ('shampoo', 'symbolic', 'stationary'): (0.0339, 0.014, 0.031, 0.154, 1.4237),
    ('shampoo', 'numeric', 'stationary'): (0.0306, 0.0061, 0.0136, 0.0442, 0.2598, 0.9992, 7.5821),
    ('shampoo_ema', 'symbolic', 'stationary'): (0.0233, 0.0243, 0.1887, 3.8294),
    ('shampoo_ema', 'numeric', 'stationary'): (0.023, 0.0112, 0.0209, 0.0765, 0.8271, 7.8563),
    ('heavy_ball', 'symbolic', 'exact'): (0.0367, 0.0569, 0.8881),
    ('heavy_ball', 'numeric', 'exact'): (0.0337, 0.0285, 0.1965, 0.6692, 5.3007),
    ('rmsprop', 'symbolic', 'exact'): (0.3592,),
    ('rmsprop', 'numeric', 'exact'): (0.0468,),
    ('adam', 'symbolic', 'exact'): (0.5911, 0.7744),
    ('adam', 'numeric', 'exact'): (0.0824, 0.2411),
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

