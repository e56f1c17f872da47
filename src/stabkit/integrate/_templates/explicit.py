"""Template: explicit Runge-Kutta schemes (Dopri5, Tsit5, DOP853, RK4) and the Auto driver.

Everything after the marker line is appended to each generated kernel module (see
CONTRACT.md) and runs under numba or, unchanged, as plain Python (the reference).

One driver, :func:`_erk_drive`, serves every scheme; ``scheme`` is a literal at each
call site (0 Dopri5, 1 Tsit5, 2 DOP853, 3 RK4), so numba compiles one specialised,
constant-folded driver per scheme, lazily, on first use. The driver allocates its
scratch arrays once per member; the step loop allocates nothing.

Step control (Hairer, Norsett & Wanner, Solving ODEs I, II.4 and the DOPRI5 / DOP853
codes): RMS error norm with ``sc_i = atol_i + rtol_i * max(|y_i|, |y_new_i|)``, PI
controller ``h_new = h * clip(safety * err^-(1/q - 0.75 beta) * err_old^beta)`` (DOP853:
``1/8 - 0.2 beta``), no growth right after a rejection, Hairer's initial step when
``cfg[0] == 0``. A non-finite error estimate rejects the step and shrinks ``h`` by
``min_factor``; the member fails with NON_FINITE only when ``h`` underflows.

Fixed steps: RK4 always, and any scheme when ``cfg[8] > 0`` (no error control, step
``cfg[8]``, times ``t0 + i * dt``, the last step shortened to land on ``t1``).

Dense output: Dopri5 Shampine's 4th-order continuous extension (Hairer's DOPRI5
coefficients), Tsit5 its own free 4th-order interpolant (Tsitouras 2011), DOP853 the
7th-order extension with three extra stages (computed only when a step holds an output
time or an event), RK4 cubic Hermite. Output times and event roots are taken from it.

Events: ``events(t, y, p, g)`` after every accepted step; a sign change matching
``ev_dir`` is located on the dense output by the Illinois method to a few ulps of ``t``;
crossings of one step are recorded in time order; a terminal crossing ends the member
with status TERMINATED at the event time.

Stiffness (Auto, ``cfg[9] == 1``, Dopri5/Tsit5): Hairer's estimate
``h |lambda| ~ h ||k7 - k6|| / ||y7 - y6||``; above 3.25 on ``cfg[10]`` accepted steps
(the count resets after 6 non-stiff steps, as in DOPRI5) the member stops with the
internal status 8 (STIFF) and ``auto_member`` continues with the Rosenbrock member of
``rosenbrock.py`` (``cfg[11]``: 0 Dopri5 / 1 Tsit5 first).

Coefficients are typed in from the published tables: Dormand & Prince, J. Comput. Appl.
Math. 6 (1980) 19-26 and Shampine, Math. Comp. 46 (1986) 135-150 (Dopri5 and its dense
output); Tsitouras, Comput. Math. Appl. 62 (2011) 770-775 (Tsit5); Hairer, Norsett &
Wanner (1993), II.10 and the DOP853 code (DOP853 and its dense output).
"""

import math

import numpy as np

# ---- template body ----

_ERK_EPS = 2.220446049250313e-16

# Dormand & Prince 5(4): nodes, stages, 5th-order weights (= row 7), error weights.
_ERK_DP_C2 = 1.0 / 5.0
_ERK_DP_C3 = 3.0 / 10.0
_ERK_DP_C4 = 4.0 / 5.0
_ERK_DP_C5 = 8.0 / 9.0
_ERK_DP_A21 = 1.0 / 5.0
_ERK_DP_A31 = 3.0 / 40.0
_ERK_DP_A32 = 9.0 / 40.0
_ERK_DP_A41 = 44.0 / 45.0
_ERK_DP_A42 = -56.0 / 15.0
_ERK_DP_A43 = 32.0 / 9.0
_ERK_DP_A51 = 19372.0 / 6561.0
_ERK_DP_A52 = -25360.0 / 2187.0
_ERK_DP_A53 = 64448.0 / 6561.0
_ERK_DP_A54 = -212.0 / 729.0
_ERK_DP_A61 = 9017.0 / 3168.0
_ERK_DP_A62 = -355.0 / 33.0
_ERK_DP_A63 = 46732.0 / 5247.0
_ERK_DP_A64 = 49.0 / 176.0
_ERK_DP_A65 = -5103.0 / 18656.0
_ERK_DP_B1 = 35.0 / 384.0
_ERK_DP_B3 = 500.0 / 1113.0
_ERK_DP_B4 = 125.0 / 192.0
_ERK_DP_B5 = -2187.0 / 6784.0
_ERK_DP_B6 = 11.0 / 84.0
_ERK_DP_E1 = 71.0 / 57600.0
_ERK_DP_E3 = -71.0 / 16695.0
_ERK_DP_E4 = 71.0 / 1920.0
_ERK_DP_E5 = -17253.0 / 339200.0
_ERK_DP_E6 = 22.0 / 525.0
_ERK_DP_E7 = -1.0 / 40.0
# Shampine's dense output (coefficients of the DOPRI5 code).
_ERK_DP_D1 = -12715105075.0 / 11282082432.0
_ERK_DP_D3 = 87487479700.0 / 32700410799.0
_ERK_DP_D4 = -10690763975.0 / 1880347072.0
_ERK_DP_D5 = 701980252875.0 / 199316789632.0
_ERK_DP_D6 = -1453857185.0 / 822651844.0
_ERK_DP_D7 = 69997945.0 / 29380423.0

# Tsitouras 5(4) (2011), Table 1: nodes, stages, weights, error weights b - b_hat.
_ERK_TS_C2 = 0.161
_ERK_TS_C3 = 0.327
_ERK_TS_C4 = 0.9
_ERK_TS_C5 = 0.9800255409045097
_ERK_TS_A21 = 0.161
_ERK_TS_A31 = -0.008480655492356989
_ERK_TS_A32 = 0.335480655492357
_ERK_TS_A41 = 2.897153057105493
_ERK_TS_A42 = -6.359448489975075
_ERK_TS_A43 = 4.3622954328695815
_ERK_TS_A51 = 5.325864828439257
_ERK_TS_A52 = -11.748883564062828
_ERK_TS_A53 = 7.4955393428898365
_ERK_TS_A54 = -0.09249506636175525
_ERK_TS_A61 = 5.86145544294642
_ERK_TS_A62 = -12.92096931784711
_ERK_TS_A63 = 8.159367898576159
_ERK_TS_A64 = -0.071584973281401
_ERK_TS_A65 = -0.028269050394068383
_ERK_TS_B1 = 0.09646076681806523
_ERK_TS_B2 = 0.01
_ERK_TS_B3 = 0.4798896504144996
_ERK_TS_B4 = 1.379008574103742
_ERK_TS_B5 = -3.290069515436081
_ERK_TS_B6 = 2.324710524099774
_ERK_TS_E1 = -0.00178001105222577714
_ERK_TS_E2 = -0.0008164344596567469
_ERK_TS_E3 = 0.007880878010261995
_ERK_TS_E4 = -0.1447110071732629
_ERK_TS_E5 = 0.5823571654525552
_ERK_TS_E6 = -0.45808210592918697
_ERK_TS_E7 = 1.0 / 66.0
# Tsit5 interpolant weights b_i(theta), Tsitouras (2011), Section 4.
_ERK_TS_R11 = -1.0530884977290216
_ERK_TS_R12 = 1.3299890189751412
_ERK_TS_R13 = 1.4364028541716351
_ERK_TS_R14 = 0.7139816917074209
_ERK_TS_R21 = 0.1017
_ERK_TS_R22 = 2.1966568338249754
_ERK_TS_R23 = 1.2949852507374631
_ERK_TS_R31 = 2.490627285651252793
_ERK_TS_R32 = 2.38535645472061657
_ERK_TS_R33 = 1.57803468208092486
_ERK_TS_R41 = -16.54810288924490272
_ERK_TS_R42 = 1.21712927295533244
_ERK_TS_R43 = 0.61620406037800089
_ERK_TS_R51 = 47.37952196281928122
_ERK_TS_R52 = 1.203071208372362603
_ERK_TS_R53 = 0.658047292653547382
_ERK_TS_R61 = -34.87065786149660974
_ERK_TS_R62 = 1.2
_ERK_TS_R63 = 0.666666666666666667
_ERK_TS_R71 = 2.5
_ERK_TS_R72 = 1.0
_ERK_TS_R73 = 0.6

# DOP853 (Hairer, Norsett & Wanner; the DOP853 code).
_ERK_D8_C2 = 0.526001519587677318785587544488e-01
_ERK_D8_C3 = 0.789002279381515978178381316732e-01
_ERK_D8_C4 = 0.118350341907227396726757197510e00
_ERK_D8_C5 = 0.281649658092772603273242802490e00
_ERK_D8_C6 = 0.333333333333333333333333333333e00
_ERK_D8_C7 = 0.25e00
_ERK_D8_C8 = 0.307692307692307692307692307692e00
_ERK_D8_C9 = 0.651282051282051282051282051282e00
_ERK_D8_C10 = 0.6e00
_ERK_D8_C11 = 0.857142857142857142857142857142e00
_ERK_D8_C14 = 0.1e00
_ERK_D8_C15 = 0.2e00
_ERK_D8_C16 = 0.777777777777777777777777777778e00

_ERK_D8_B1 = 5.42937341165687622380535766363e-2
_ERK_D8_B6 = 4.45031289275240888144113950566e0
_ERK_D8_B7 = 1.89151789931450038304281599044e0
_ERK_D8_B8 = -5.8012039600105847814672114227e0
_ERK_D8_B9 = 3.1116436695781989440891606237e-1
_ERK_D8_B10 = -1.52160949662516078556178806805e-1
_ERK_D8_B11 = 2.01365400804030348374776537501e-1
_ERK_D8_B12 = 4.47106157277725905176885569043e-2

_ERK_D8_BHH1 = 0.244094488188976377952755905512e00
_ERK_D8_BHH2 = 0.733846688281611857341361741547e00
_ERK_D8_BHH3 = 0.220588235294117647058823529412e-01

_ERK_D8_ER1 = 0.1312004499419488073250102996e-01
_ERK_D8_ER6 = -0.1225156446376204440720569753e01
_ERK_D8_ER7 = -0.4957589496572501915214079952e00
_ERK_D8_ER8 = 0.1664377182454986536961530415e01
_ERK_D8_ER9 = -0.3503288487499736816886487290e00
_ERK_D8_ER10 = 0.3341791187130174790297318841e00
_ERK_D8_ER11 = 0.8192320648511571246570742613e-01
_ERK_D8_ER12 = -0.2235530786388629525884427845e-01

_ERK_D8_A21 = 5.26001519587677318785587544488e-2
_ERK_D8_A31 = 1.97250569845378994544595329183e-2
_ERK_D8_A32 = 5.91751709536136983633785987549e-2
_ERK_D8_A41 = 2.95875854768068491816892993775e-2
_ERK_D8_A43 = 8.87627564304205475450678981324e-2
_ERK_D8_A51 = 2.41365134159266685502369798665e-1
_ERK_D8_A53 = -8.84549479328286085344864962717e-1
_ERK_D8_A54 = 9.24834003261792003115737966543e-1
_ERK_D8_A61 = 3.7037037037037037037037037037e-2
_ERK_D8_A64 = 1.70828608729473871279604482173e-1
_ERK_D8_A65 = 1.25467687566822425016691814123e-1
_ERK_D8_A71 = 3.7109375e-2
_ERK_D8_A74 = 1.70252211019544039314978060272e-1
_ERK_D8_A75 = 6.02165389804559606850219397283e-2
_ERK_D8_A76 = -1.7578125e-2
_ERK_D8_A81 = 3.70920001185047927108779319836e-2
_ERK_D8_A84 = 1.70383925712239993810214054705e-1
_ERK_D8_A85 = 1.07262030446373284651809199168e-1
_ERK_D8_A86 = -1.53194377486244017527936158236e-2
_ERK_D8_A87 = 8.27378916381402288758473766002e-3
_ERK_D8_A91 = 6.24110958716075717114429577812e-1
_ERK_D8_A94 = -3.36089262944694129406857109825e0
_ERK_D8_A95 = -8.68219346841726006818189891453e-1
_ERK_D8_A96 = 2.75920996994467083049415600797e1
_ERK_D8_A97 = 2.01540675504778934086186788979e1
_ERK_D8_A98 = -4.34898841810699588477366255144e1
_ERK_D8_A101 = 4.77662536438264365890433908527e-1
_ERK_D8_A104 = -2.48811461997166764192642586468e0
_ERK_D8_A105 = -5.90290826836842996371446475743e-1
_ERK_D8_A106 = 2.12300514481811942347288949897e1
_ERK_D8_A107 = 1.52792336328824235832596922938e1
_ERK_D8_A108 = -3.32882109689848629194453265587e1
_ERK_D8_A109 = -2.03312017085086261358222928593e-2
_ERK_D8_A111 = -9.3714243008598732571704021658e-1
_ERK_D8_A114 = 5.18637242884406370830023853209e0
_ERK_D8_A115 = 1.09143734899672957818500254654e0
_ERK_D8_A116 = -8.14978701074692612513997267357e0
_ERK_D8_A117 = -1.85200656599969598641566180701e1
_ERK_D8_A118 = 2.27394870993505042818970056734e1
_ERK_D8_A119 = 2.49360555267965238987089396762e0
_ERK_D8_A1110 = -3.0467644718982195003823669022e0
_ERK_D8_A121 = 2.27331014751653820792359768449e0
_ERK_D8_A124 = -1.05344954667372501984066689879e1
_ERK_D8_A125 = -2.00087205822486249909675718444e0
_ERK_D8_A126 = -1.79589318631187989172765950534e1
_ERK_D8_A127 = 2.79488845294199600508499808837e1
_ERK_D8_A128 = -2.85899827713502369474065508674e0
_ERK_D8_A129 = -8.87285693353062954433549289258e0
_ERK_D8_A1210 = 1.23605671757943030647266201528e1
_ERK_D8_A1211 = 6.43392746015763530355970484046e-1
# the three extra stages of the dense output
_ERK_D8_A141 = 5.61675022830479523392909219681e-2
_ERK_D8_A147 = 2.53500210216624811088794765333e-1
_ERK_D8_A148 = -2.46239037470802489917441475441e-1
_ERK_D8_A149 = -1.24191423263816360469010140626e-1
_ERK_D8_A1410 = 1.5329179827876569731206322685e-1
_ERK_D8_A1411 = 8.20105229563468988491666602057e-3
_ERK_D8_A1412 = 7.56789766054569976138603589584e-3
_ERK_D8_A1413 = -8.298e-3
_ERK_D8_A151 = 3.18346481635021405060768473261e-2
_ERK_D8_A156 = 2.83009096723667755288322961402e-2
_ERK_D8_A157 = 5.35419883074385676223797384372e-2
_ERK_D8_A158 = -5.49237485713909884646569340306e-2
_ERK_D8_A1511 = -1.08347328697249322858509316994e-4
_ERK_D8_A1512 = 3.82571090835658412954920192323e-4
_ERK_D8_A1513 = -3.40465008687404560802977114492e-4
_ERK_D8_A1514 = 1.41312443674632500278074618366e-1
_ERK_D8_A161 = -4.28896301583791923408573538692e-1
_ERK_D8_A166 = -4.69762141536116384314449447206e0
_ERK_D8_A167 = 7.68342119606259904184240953878e0
_ERK_D8_A168 = 4.06898981839711007970213554331e0
_ERK_D8_A169 = 3.56727187455281109270669543021e-1
_ERK_D8_A1613 = -1.39902416515901462129418009734e-3
_ERK_D8_A1614 = 2.9475147891527723389556272149e0
_ERK_D8_A1615 = -9.15095847217987001081870187138e0
# dense output polynomials 5..8
_ERK_D8_D41 = -0.84289382761090128651353491142e01
_ERK_D8_D46 = 0.56671495351937776962531783590e00
_ERK_D8_D47 = -0.30689499459498916912797304727e01
_ERK_D8_D48 = 0.23846676565120698287728149680e01
_ERK_D8_D49 = 0.21170345824450282767155149946e01
_ERK_D8_D410 = -0.87139158377797299206789907490e00
_ERK_D8_D411 = 0.22404374302607882758541771650e01
_ERK_D8_D412 = 0.63157877876946881815570249290e00
_ERK_D8_D413 = -0.88990336451333310820698117400e-01
_ERK_D8_D414 = 0.18148505520854727256656404962e02
_ERK_D8_D415 = -0.91946323924783554000451984436e01
_ERK_D8_D416 = -0.44360363875948939664310572000e01
_ERK_D8_D51 = 0.10427508642579134603413151009e02
_ERK_D8_D56 = 0.24228349177525818288430175319e03
_ERK_D8_D57 = 0.16520045171727028198505394887e03
_ERK_D8_D58 = -0.37454675472269020279518312152e03
_ERK_D8_D59 = -0.22113666853125306036270938578e02
_ERK_D8_D510 = 0.77334326684722638389603898808e01
_ERK_D8_D511 = -0.30674084731089398182061213626e02
_ERK_D8_D512 = -0.93321305264302278729567221706e01
_ERK_D8_D513 = 0.15697238121770843886131091075e02
_ERK_D8_D514 = -0.31139403219565177677282850411e02
_ERK_D8_D515 = -0.93529243588444783865713862664e01
_ERK_D8_D516 = 0.35816841486394083752465898540e02
_ERK_D8_D61 = 0.19985053242002433820987653617e02
_ERK_D8_D66 = -0.38703730874935176555105901742e03
_ERK_D8_D67 = -0.18917813819516756882830838328e03
_ERK_D8_D68 = 0.52780815920542364900561016686e03
_ERK_D8_D69 = -0.11573902539959630126141871134e02
_ERK_D8_D610 = 0.68812326946963000169666922661e01
_ERK_D8_D611 = -0.10006050966910838403183860980e01
_ERK_D8_D612 = 0.77771377980534432092869265740e00
_ERK_D8_D613 = -0.27782057523535084065932004339e01
_ERK_D8_D614 = -0.60196695231264120758267380846e02
_ERK_D8_D615 = 0.84320405506677161018159903784e02
_ERK_D8_D616 = 0.11992291136182789328035130030e02
_ERK_D8_D71 = -0.25693933462703749003312586129e02
_ERK_D8_D76 = -0.15418974869023643374053993627e03
_ERK_D8_D77 = -0.23152937917604549567536039109e03
_ERK_D8_D78 = 0.35763911791061412378285349910e03
_ERK_D8_D79 = 0.93405324183624310003907691704e02
_ERK_D8_D710 = -0.37458323136451633156875139351e02
_ERK_D8_D711 = 0.10409964950896230045147246184e03
_ERK_D8_D712 = 0.29840293426660503123344363579e02
_ERK_D8_D713 = -0.43533456590011143754432175058e02
_ERK_D8_D714 = 0.96324553959188282948394950600e02
_ERK_D8_D715 = -0.39177261675615439165231486172e02
_ERK_D8_D716 = -0.14972683625798562581422125276e03

# Stages each scheme evaluates per step (FSAL stage included), and the row of K that
# holds f(t + h, y_new), which becomes the first stage of the next step.
_ERK_FSAL_ROW_DP = 6
_ERK_FSAL_ROW_TS = 6
_ERK_FSAL_ROW_D8 = 12
_ERK_FSAL_ROW_RK4 = 4


# --------------------------------------------------------------------------- steps
if NUMBA:
    from numba import njit as _erk_njit

    # step functions are inlined into the driver (numba IR level): no call overhead
    _erk_ijit = _erk_njit(cache=True, nogil=True, error_model="numpy", inline="always")
else:
    _erk_ijit = _jit


@_erk_ijit
def _erk_dopri5_step(t, h, y, p, K, yt, ynew, rtol, atol):
    """One Dormand-Prince step: stages K[1..6], y_new, and the RMS error (6 rhs)."""
    n = NUM_VARIABLES  # a compile-time constant: small loops unroll
    for i in range(n):
        yt[i] = y[i] + h * (_ERK_DP_A21 * K[0, i])
    rhs(t + _ERK_DP_C2 * h, yt, p, K[1])
    for i in range(n):
        yt[i] = y[i] + h * (_ERK_DP_A31 * K[0, i] + _ERK_DP_A32 * K[1, i])
    rhs(t + _ERK_DP_C3 * h, yt, p, K[2])
    for i in range(n):
        yt[i] = y[i] + h * (_ERK_DP_A41 * K[0, i] + _ERK_DP_A42 * K[1, i] + _ERK_DP_A43 * K[2, i])
    rhs(t + _ERK_DP_C4 * h, yt, p, K[3])
    for i in range(n):
        yt[i] = y[i] + h * (
            _ERK_DP_A51 * K[0, i]
            + _ERK_DP_A52 * K[1, i]
            + _ERK_DP_A53 * K[2, i]
            + _ERK_DP_A54 * K[3, i]
        )
    rhs(t + _ERK_DP_C5 * h, yt, p, K[4])
    for i in range(n):
        yt[i] = y[i] + h * (
            _ERK_DP_A61 * K[0, i]
            + _ERK_DP_A62 * K[1, i]
            + _ERK_DP_A63 * K[2, i]
            + _ERK_DP_A64 * K[3, i]
            + _ERK_DP_A65 * K[4, i]
        )
    rhs(t + h, yt, p, K[5])
    for i in range(n):
        ynew[i] = y[i] + h * (
            _ERK_DP_B1 * K[0, i]
            + _ERK_DP_B3 * K[2, i]
            + _ERK_DP_B4 * K[3, i]
            + _ERK_DP_B5 * K[4, i]
            + _ERK_DP_B6 * K[5, i]
        )
    rhs(t + h, ynew, p, K[6])
    acc = 0.0
    for i in range(n):
        e = h * (
            _ERK_DP_E1 * K[0, i]
            + _ERK_DP_E3 * K[2, i]
            + _ERK_DP_E4 * K[3, i]
            + _ERK_DP_E5 * K[4, i]
            + _ERK_DP_E6 * K[5, i]
            + _ERK_DP_E7 * K[6, i]
        )
        sc = atol[i] + rtol[i] * max(abs(y[i]), abs(ynew[i]))
        r = e / sc
        acc += r * r
    return math.sqrt(acc / n)


@_erk_ijit
def _erk_tsit5_step(t, h, y, p, K, yt, ynew, rtol, atol):
    """One Tsitouras step: stages K[1..6], y_new, and the RMS error (6 rhs)."""
    n = NUM_VARIABLES  # a compile-time constant: small loops unroll
    for i in range(n):
        yt[i] = y[i] + h * (_ERK_TS_A21 * K[0, i])
    rhs(t + _ERK_TS_C2 * h, yt, p, K[1])
    for i in range(n):
        yt[i] = y[i] + h * (_ERK_TS_A31 * K[0, i] + _ERK_TS_A32 * K[1, i])
    rhs(t + _ERK_TS_C3 * h, yt, p, K[2])
    for i in range(n):
        yt[i] = y[i] + h * (_ERK_TS_A41 * K[0, i] + _ERK_TS_A42 * K[1, i] + _ERK_TS_A43 * K[2, i])
    rhs(t + _ERK_TS_C4 * h, yt, p, K[3])
    for i in range(n):
        yt[i] = y[i] + h * (
            _ERK_TS_A51 * K[0, i]
            + _ERK_TS_A52 * K[1, i]
            + _ERK_TS_A53 * K[2, i]
            + _ERK_TS_A54 * K[3, i]
        )
    rhs(t + _ERK_TS_C5 * h, yt, p, K[4])
    for i in range(n):
        yt[i] = y[i] + h * (
            _ERK_TS_A61 * K[0, i]
            + _ERK_TS_A62 * K[1, i]
            + _ERK_TS_A63 * K[2, i]
            + _ERK_TS_A64 * K[3, i]
            + _ERK_TS_A65 * K[4, i]
        )
    rhs(t + h, yt, p, K[5])
    for i in range(n):
        ynew[i] = y[i] + h * (
            _ERK_TS_B1 * K[0, i]
            + _ERK_TS_B2 * K[1, i]
            + _ERK_TS_B3 * K[2, i]
            + _ERK_TS_B4 * K[3, i]
            + _ERK_TS_B5 * K[4, i]
            + _ERK_TS_B6 * K[5, i]
        )
    rhs(t + h, ynew, p, K[6])
    acc = 0.0
    for i in range(n):
        e = h * (
            _ERK_TS_E1 * K[0, i]
            + _ERK_TS_E2 * K[1, i]
            + _ERK_TS_E3 * K[2, i]
            + _ERK_TS_E4 * K[3, i]
            + _ERK_TS_E5 * K[4, i]
            + _ERK_TS_E6 * K[5, i]
            + _ERK_TS_E7 * K[6, i]
        )
        sc = atol[i] + rtol[i] * max(abs(y[i]), abs(ynew[i]))
        r = e / sc
        acc += r * r
    return math.sqrt(acc / n)


@_erk_ijit
def _erk_dop853_step(t, h, y, p, K, yt, ynew, rtol, atol):
    """One DOP853 step: stages K[1..11], y_new, K[12] = f(t+h, y_new), the error (12 rhs).

    The error is Hairer's blend of the 5th- and 3rd-order estimates,
    ``|h| err5^2 / sqrt(n (err5^2 + 0.01 err3^2))``.
    """
    n = NUM_VARIABLES  # a compile-time constant: small loops unroll
    for i in range(n):
        yt[i] = y[i] + h * (_ERK_D8_A21 * K[0, i])
    rhs(t + _ERK_D8_C2 * h, yt, p, K[1])
    for i in range(n):
        yt[i] = y[i] + h * (_ERK_D8_A31 * K[0, i] + _ERK_D8_A32 * K[1, i])
    rhs(t + _ERK_D8_C3 * h, yt, p, K[2])
    for i in range(n):
        yt[i] = y[i] + h * (_ERK_D8_A41 * K[0, i] + _ERK_D8_A43 * K[2, i])
    rhs(t + _ERK_D8_C4 * h, yt, p, K[3])
    for i in range(n):
        yt[i] = y[i] + h * (_ERK_D8_A51 * K[0, i] + _ERK_D8_A53 * K[2, i] + _ERK_D8_A54 * K[3, i])
    rhs(t + _ERK_D8_C5 * h, yt, p, K[4])
    for i in range(n):
        yt[i] = y[i] + h * (_ERK_D8_A61 * K[0, i] + _ERK_D8_A64 * K[3, i] + _ERK_D8_A65 * K[4, i])
    rhs(t + _ERK_D8_C6 * h, yt, p, K[5])
    for i in range(n):
        yt[i] = y[i] + h * (
            _ERK_D8_A71 * K[0, i]
            + _ERK_D8_A74 * K[3, i]
            + _ERK_D8_A75 * K[4, i]
            + _ERK_D8_A76 * K[5, i]
        )
    rhs(t + _ERK_D8_C7 * h, yt, p, K[6])
    for i in range(n):
        yt[i] = y[i] + h * (
            _ERK_D8_A81 * K[0, i]
            + _ERK_D8_A84 * K[3, i]
            + _ERK_D8_A85 * K[4, i]
            + _ERK_D8_A86 * K[5, i]
            + _ERK_D8_A87 * K[6, i]
        )
    rhs(t + _ERK_D8_C8 * h, yt, p, K[7])
    for i in range(n):
        yt[i] = y[i] + h * (
            _ERK_D8_A91 * K[0, i]
            + _ERK_D8_A94 * K[3, i]
            + _ERK_D8_A95 * K[4, i]
            + _ERK_D8_A96 * K[5, i]
            + _ERK_D8_A97 * K[6, i]
            + _ERK_D8_A98 * K[7, i]
        )
    rhs(t + _ERK_D8_C9 * h, yt, p, K[8])
    for i in range(n):
        yt[i] = y[i] + h * (
            _ERK_D8_A101 * K[0, i]
            + _ERK_D8_A104 * K[3, i]
            + _ERK_D8_A105 * K[4, i]
            + _ERK_D8_A106 * K[5, i]
            + _ERK_D8_A107 * K[6, i]
            + _ERK_D8_A108 * K[7, i]
            + _ERK_D8_A109 * K[8, i]
        )
    rhs(t + _ERK_D8_C10 * h, yt, p, K[9])
    for i in range(n):
        yt[i] = y[i] + h * (
            _ERK_D8_A111 * K[0, i]
            + _ERK_D8_A114 * K[3, i]
            + _ERK_D8_A115 * K[4, i]
            + _ERK_D8_A116 * K[5, i]
            + _ERK_D8_A117 * K[6, i]
            + _ERK_D8_A118 * K[7, i]
            + _ERK_D8_A119 * K[8, i]
            + _ERK_D8_A1110 * K[9, i]
        )
    rhs(t + _ERK_D8_C11 * h, yt, p, K[10])
    for i in range(n):
        yt[i] = y[i] + h * (
            _ERK_D8_A121 * K[0, i]
            + _ERK_D8_A124 * K[3, i]
            + _ERK_D8_A125 * K[4, i]
            + _ERK_D8_A126 * K[5, i]
            + _ERK_D8_A127 * K[6, i]
            + _ERK_D8_A128 * K[7, i]
            + _ERK_D8_A129 * K[8, i]
            + _ERK_D8_A1210 * K[9, i]
            + _ERK_D8_A1211 * K[10, i]
        )
    rhs(t + h, yt, p, K[11])
    err5 = 0.0
    err3 = 0.0
    for i in range(n):
        bk = (
            _ERK_D8_B1 * K[0, i]
            + _ERK_D8_B6 * K[5, i]
            + _ERK_D8_B7 * K[6, i]
            + _ERK_D8_B8 * K[7, i]
            + _ERK_D8_B9 * K[8, i]
            + _ERK_D8_B10 * K[9, i]
            + _ERK_D8_B11 * K[10, i]
            + _ERK_D8_B12 * K[11, i]
        )
        ynew[i] = y[i] + h * bk
        sc = atol[i] + rtol[i] * max(abs(y[i]), abs(ynew[i]))
        e3 = (bk - _ERK_D8_BHH1 * K[0, i] - _ERK_D8_BHH2 * K[8, i] - _ERK_D8_BHH3 * K[11, i]) / sc
        e5 = (
            _ERK_D8_ER1 * K[0, i]
            + _ERK_D8_ER6 * K[5, i]
            + _ERK_D8_ER7 * K[6, i]
            + _ERK_D8_ER8 * K[7, i]
            + _ERK_D8_ER9 * K[8, i]
            + _ERK_D8_ER10 * K[9, i]
            + _ERK_D8_ER11 * K[10, i]
            + _ERK_D8_ER12 * K[11, i]
        ) / sc
        err3 += e3 * e3
        err5 += e5 * e5
    rhs(t + h, ynew, p, K[12])
    deno = err5 + 0.01 * err3
    if deno <= 0.0:
        deno = 1.0
    return abs(h) * err5 * math.sqrt(1.0 / (n * deno))


@_erk_ijit
def _erk_rk4_step(t, h, y, p, K, yt, ynew, rtol, atol):
    """One classical RK4 step: K[1..3], y_new, K[4] = f(t+h, y_new) (4 rhs).

    Returns 0.0, or infinity when y_new or a stage is not finite.
    """
    n = NUM_VARIABLES  # a compile-time constant: small loops unroll
    half = 0.5 * h
    for i in range(n):
        yt[i] = y[i] + half * K[0, i]
    rhs(t + half, yt, p, K[1])
    for i in range(n):
        yt[i] = y[i] + half * K[1, i]
    rhs(t + half, yt, p, K[2])
    for i in range(n):
        yt[i] = y[i] + h * K[2, i]
    rhs(t + h, yt, p, K[3])
    sixth = h / 6.0
    for i in range(n):
        ynew[i] = y[i] + sixth * (K[0, i] + 2.0 * K[1, i] + 2.0 * K[2, i] + K[3, i])
    rhs(t + h, ynew, p, K[4])
    bad = 0.0
    for i in range(n):
        if not (math.isfinite(ynew[i]) and math.isfinite(K[4, i])):
            bad = math.inf
    return bad


# --------------------------------------------------------------------------- dense output
# Dense output. Each scheme has a ``prepare`` (after an accepted step, coefficients
# into D; returns the rhs evaluations it spent) and an ``eval`` (the continuous
# extension at t + theta h into out). The driver receives them as function arguments,
# so numba compiles only the scheme in use.
@_jit
def _erk_dopri5_prepare(t, h, y, ynew, p, K, yt, D):
    """Shampine's 4th-order extension of Dormand-Prince (Hairer's DOPRI5 form)."""
    n = y.shape[0]
    for i in range(n):
        ydiff = ynew[i] - y[i]
        bspl = h * K[0, i] - ydiff
        D[0, i] = y[i]
        D[1, i] = ydiff
        D[2, i] = bspl
        D[3, i] = ydiff - h * K[6, i] - bspl
        D[4, i] = h * (
            _ERK_DP_D1 * K[0, i]
            + _ERK_DP_D3 * K[2, i]
            + _ERK_DP_D4 * K[3, i]
            + _ERK_DP_D5 * K[4, i]
            + _ERK_DP_D6 * K[5, i]
            + _ERK_DP_D7 * K[6, i]
        )
    return 0


@_jit
def _erk_hermite_prepare(t, h, y, ynew, p, K, yt, D):
    """Cubic Hermite interpolation from y, y_new, f(y) = K[0] and f(y_new) = K[4] (RK4)."""
    n = y.shape[0]
    for i in range(n):
        ydiff = ynew[i] - y[i]
        bspl = h * K[0, i] - ydiff
        D[0, i] = y[i]
        D[1, i] = ydiff
        D[2, i] = bspl
        D[3, i] = ydiff - h * K[4, i] - bspl
        D[4, i] = 0.0
    return 0


@_jit
def _erk_poly4_eval(theta, h, y, K, D, out):
    """y0 + theta (dy + (1 - theta) (bspl + theta (c4 + (1 - theta) c5))) (Dopri5, Hermite)."""
    n = y.shape[0]
    s1 = 1.0 - theta
    for i in range(n):
        out[i] = D[0, i] + theta * (D[1, i] + s1 * (D[2, i] + theta * (D[3, i] + s1 * D[4, i])))


@_jit
def _erk_tsit5_prepare(t, h, y, ynew, p, K, yt, D):
    """Tsit5 interpolates from the stages directly: nothing to prepare."""
    return 0


@_jit
def _erk_tsit5_eval(theta, h, y, K, D, out):
    """Tsitouras' free 4th-order interpolant y + h sum_i b_i(theta) k_i."""
    n = y.shape[0]
    th2 = theta * theta
    b1 = _ERK_TS_R11 * theta * (theta - _ERK_TS_R12) * (th2 - _ERK_TS_R13 * theta + _ERK_TS_R14)
    b2 = _ERK_TS_R21 * th2 * (th2 - _ERK_TS_R22 * theta + _ERK_TS_R23)
    b3 = _ERK_TS_R31 * th2 * (th2 - _ERK_TS_R32 * theta + _ERK_TS_R33)
    b4 = _ERK_TS_R41 * (theta - _ERK_TS_R42) * (theta - _ERK_TS_R43) * th2
    b5 = _ERK_TS_R51 * (theta - _ERK_TS_R52) * (theta - _ERK_TS_R53) * th2
    b6 = _ERK_TS_R61 * (theta - _ERK_TS_R62) * (theta - _ERK_TS_R63) * th2
    b7 = _ERK_TS_R71 * (theta - _ERK_TS_R72) * (theta - _ERK_TS_R73) * th2
    for i in range(n):
        out[i] = y[i] + h * (
            b1 * K[0, i]
            + b2 * K[1, i]
            + b3 * K[2, i]
            + b4 * K[3, i]
            + b5 * K[4, i]
            + b6 * K[5, i]
            + b7 * K[6, i]
        )


@_jit
def _erk_dop853_prepare(t, h, y, ynew, p, K, yt, D):
    """DOP853's 7th-order extension: three extra stages K[13..15], then D[0..7]."""
    n = y.shape[0]
    for i in range(n):
        yt[i] = y[i] + h * (
            _ERK_D8_A141 * K[0, i]
            + _ERK_D8_A147 * K[6, i]
            + _ERK_D8_A148 * K[7, i]
            + _ERK_D8_A149 * K[8, i]
            + _ERK_D8_A1410 * K[9, i]
            + _ERK_D8_A1411 * K[10, i]
            + _ERK_D8_A1412 * K[11, i]
            + _ERK_D8_A1413 * K[12, i]
        )
    rhs(t + _ERK_D8_C14 * h, yt, p, K[13])
    for i in range(n):
        yt[i] = y[i] + h * (
            _ERK_D8_A151 * K[0, i]
            + _ERK_D8_A156 * K[5, i]
            + _ERK_D8_A157 * K[6, i]
            + _ERK_D8_A158 * K[7, i]
            + _ERK_D8_A1511 * K[10, i]
            + _ERK_D8_A1512 * K[11, i]
            + _ERK_D8_A1513 * K[12, i]
            + _ERK_D8_A1514 * K[13, i]
        )
    rhs(t + _ERK_D8_C15 * h, yt, p, K[14])
    for i in range(n):
        yt[i] = y[i] + h * (
            _ERK_D8_A161 * K[0, i]
            + _ERK_D8_A166 * K[5, i]
            + _ERK_D8_A167 * K[6, i]
            + _ERK_D8_A168 * K[7, i]
            + _ERK_D8_A169 * K[8, i]
            + _ERK_D8_A1613 * K[12, i]
            + _ERK_D8_A1614 * K[13, i]
            + _ERK_D8_A1615 * K[14, i]
        )
    rhs(t + _ERK_D8_C16 * h, yt, p, K[15])
    for i in range(n):
        ydiff = ynew[i] - y[i]
        bspl = h * K[0, i] - ydiff
        D[0, i] = y[i]
        D[1, i] = ydiff
        D[2, i] = bspl
        D[3, i] = ydiff - h * K[12, i] - bspl
        D[4, i] = h * (
            _ERK_D8_D41 * K[0, i]
            + _ERK_D8_D46 * K[5, i]
            + _ERK_D8_D47 * K[6, i]
            + _ERK_D8_D48 * K[7, i]
            + _ERK_D8_D49 * K[8, i]
            + _ERK_D8_D410 * K[9, i]
            + _ERK_D8_D411 * K[10, i]
            + _ERK_D8_D412 * K[11, i]
            + _ERK_D8_D413 * K[12, i]
            + _ERK_D8_D414 * K[13, i]
            + _ERK_D8_D415 * K[14, i]
            + _ERK_D8_D416 * K[15, i]
        )
        D[5, i] = h * (
            _ERK_D8_D51 * K[0, i]
            + _ERK_D8_D56 * K[5, i]
            + _ERK_D8_D57 * K[6, i]
            + _ERK_D8_D58 * K[7, i]
            + _ERK_D8_D59 * K[8, i]
            + _ERK_D8_D510 * K[9, i]
            + _ERK_D8_D511 * K[10, i]
            + _ERK_D8_D512 * K[11, i]
            + _ERK_D8_D513 * K[12, i]
            + _ERK_D8_D514 * K[13, i]
            + _ERK_D8_D515 * K[14, i]
            + _ERK_D8_D516 * K[15, i]
        )
        D[6, i] = h * (
            _ERK_D8_D61 * K[0, i]
            + _ERK_D8_D66 * K[5, i]
            + _ERK_D8_D67 * K[6, i]
            + _ERK_D8_D68 * K[7, i]
            + _ERK_D8_D69 * K[8, i]
            + _ERK_D8_D610 * K[9, i]
            + _ERK_D8_D611 * K[10, i]
            + _ERK_D8_D612 * K[11, i]
            + _ERK_D8_D613 * K[12, i]
            + _ERK_D8_D614 * K[13, i]
            + _ERK_D8_D615 * K[14, i]
            + _ERK_D8_D616 * K[15, i]
        )
        D[7, i] = h * (
            _ERK_D8_D71 * K[0, i]
            + _ERK_D8_D76 * K[5, i]
            + _ERK_D8_D77 * K[6, i]
            + _ERK_D8_D78 * K[7, i]
            + _ERK_D8_D79 * K[8, i]
            + _ERK_D8_D710 * K[9, i]
            + _ERK_D8_D711 * K[10, i]
            + _ERK_D8_D712 * K[11, i]
            + _ERK_D8_D713 * K[12, i]
            + _ERK_D8_D714 * K[13, i]
            + _ERK_D8_D715 * K[14, i]
            + _ERK_D8_D716 * K[15, i]
        )
    return 3


@_jit
def _erk_dop853_eval(theta, h, y, K, D, out):
    """The 7th-order DOP853 polynomial in Horner-like form."""
    n = y.shape[0]
    s1 = 1.0 - theta
    for i in range(n):
        out[i] = D[0, i] + theta * (
            D[1, i]
            + s1
            * (
                D[2, i]
                + theta
                * (D[3, i] + s1 * (D[4, i] + theta * (D[5, i] + s1 * (D[6, i] + theta * D[7, i]))))
            )
        )


# --------------------------------------------------------------------------- dispatch
# ``scheme`` is a literal at every call site. Plain Python dispatches at run time; under
# numba the overloads below pick the scheme's functions while typing, so a member kernel
# compiles only its own scheme.
def _erk_step(scheme, t, h, y, p, K, yt, ynew, rtol, atol):
    if scheme == 0:
        return _erk_dopri5_step(t, h, y, p, K, yt, ynew, rtol, atol)
    if scheme == 1:
        return _erk_tsit5_step(t, h, y, p, K, yt, ynew, rtol, atol)
    if scheme == 2:
        return _erk_dop853_step(t, h, y, p, K, yt, ynew, rtol, atol)
    return _erk_rk4_step(t, h, y, p, K, yt, ynew, rtol, atol)


def _erk_prepare(scheme, t, h, y, ynew, p, K, yt, D):
    if scheme == 0:
        return _erk_dopri5_prepare(t, h, y, ynew, p, K, yt, D)
    if scheme == 1:
        return _erk_tsit5_prepare(t, h, y, ynew, p, K, yt, D)
    if scheme == 2:
        return _erk_dop853_prepare(t, h, y, ynew, p, K, yt, D)
    return _erk_hermite_prepare(t, h, y, ynew, p, K, yt, D)


def _erk_info(scheme):
    """(row of K holding f(t+h, y_new), rhs evaluations per step, order, fixed-step only)."""
    return _ERK_INFO[scheme]


_ERK_INFO = (
    (_ERK_FSAL_ROW_DP, 6, 5.0, False),
    (_ERK_FSAL_ROW_TS, 6, 5.0, False),
    (_ERK_FSAL_ROW_D8, 12, 8.0, False),
    (_ERK_FSAL_ROW_RK4, 4, 4.0, True),
)


def _erk_dense(scheme, theta, h, y, K, D, out):
    if scheme == 1:
        _erk_tsit5_eval(theta, h, y, K, D, out)
    elif scheme == 2:
        _erk_dop853_eval(theta, h, y, K, D, out)
    else:
        _erk_poly4_eval(theta, h, y, K, D, out)


if NUMBA:
    from numba.extending import overload as _erk_overload

    def _erk_scheme_of(scheme):
        value = getattr(scheme, "literal_value", None)
        if value is None:
            raise TypeError("the explicit-scheme index must be a literal integer")
        return value

    @_erk_overload(_erk_step, prefer_literal=True, inline="always")
    def _erk_step_overload(scheme, t, h, y, p, K, yt, ynew, rtol, atol):
        fn = (_erk_dopri5_step, _erk_tsit5_step, _erk_dop853_step, _erk_rk4_step)[
            _erk_scheme_of(scheme)
        ]

        def impl(scheme, t, h, y, p, K, yt, ynew, rtol, atol):
            return fn(t, h, y, p, K, yt, ynew, rtol, atol)

        return impl

    @_erk_overload(_erk_prepare, prefer_literal=True)
    def _erk_prepare_overload(scheme, t, h, y, ynew, p, K, yt, D):
        fn = (_erk_dopri5_prepare, _erk_tsit5_prepare, _erk_dop853_prepare, _erk_hermite_prepare)[
            _erk_scheme_of(scheme)
        ]

        def impl(scheme, t, h, y, ynew, p, K, yt, D):
            return fn(t, h, y, ynew, p, K, yt, D)

        return impl

    @_erk_overload(_erk_info, prefer_literal=True, inline="always")
    def _erk_info_overload(scheme):
        fsal, evals, order, fixed_only = _ERK_INFO[_erk_scheme_of(scheme)]

        def impl(scheme):
            return fsal, evals, order, fixed_only

        return impl

    @_erk_overload(_erk_dense, prefer_literal=True)
    def _erk_dense_overload(scheme, theta, h, y, K, D, out):
        fn = (_erk_poly4_eval, _erk_tsit5_eval, _erk_dop853_eval, _erk_poly4_eval)[
            _erk_scheme_of(scheme)
        ]

        def impl(scheme, theta, h, y, K, D, out):
            fn(theta, h, y, K, D, out)

        return impl


# --------------------------------------------------------------------------- helpers
@_jit
def _erk_initial_step(order, t0, t1, y0, p, f0, rtol, atol, hmax, yt, f1):
    """Hairer's starting step size (Solving ODEs I, II.4); uses one rhs evaluation."""
    n = y0.shape[0]
    dnf = 0.0
    dny = 0.0
    for i in range(n):
        sk = atol[i] + rtol[i] * abs(y0[i])
        dnf += (f0[i] / sk) ** 2
        dny += (y0[i] / sk) ** 2
    if dnf <= 1e-10 or dny <= 1e-10 or not math.isfinite(dnf):
        h = 1.0e-6
    else:
        h = math.sqrt(dny / dnf) * 0.01
    h = min(h, hmax)
    for i in range(n):
        yt[i] = y0[i] + h * f0[i]
    rhs(t0 + h, yt, p, f1)
    der2 = 0.0
    for i in range(n):
        sk = atol[i] + rtol[i] * abs(y0[i])
        der2 += ((f1[i] - f0[i]) / sk) ** 2
    der2 = math.sqrt(der2) / h
    der12 = max(abs(der2), math.sqrt(dnf))
    if der12 <= 1e-15 or not math.isfinite(der12):
        h1 = max(1.0e-6, abs(h) * 1.0e-3)
    else:
        h1 = (0.01 / der12) ** (1.0 / order)
    h = min(100.0 * abs(h), h1, hmax)
    if not h > 0.0:
        h = 1.0e-6 * (t1 - t0)
    return h


@_jit
def _erk_append(buf_t, buf_y, saved, t, y):
    """Write row ``saved`` of the save_all buffers, doubling them when full."""
    if saved >= buf_t.shape[0]:
        cap = 2 * buf_t.shape[0]
        bt = np.empty(cap)
        by = np.empty((cap, buf_y.shape[1]))
        bt[:saved] = buf_t[:saved]
        by[:saved, :] = buf_y[:saved, :]
        buf_t = bt
        buf_y = by
    buf_t[saved] = t
    for i in range(y.shape[0]):
        buf_y[saved, i] = y[i]
    return buf_t, buf_y


@_jit
def _erk_locate(scheme, e, t, h, y, K, D, p, ga, gb, ydense, gtmp):
    """Root of event ``e`` in theta in (0, 1] by the Illinois method; ga, gb opposite signs."""
    a = 0.0
    b = 1.0
    fa = ga
    fb = gb
    side = 0
    tol = 4.0 * _ERK_EPS * max(abs(t + h), abs(h)) / abs(h)
    for _it in range(200):
        if b - a <= tol:
            break
        m = (a * fb - b * fa) / (fb - fa)
        if not (m > a and m < b):
            m = 0.5 * (a + b)
        _erk_dense(scheme, m, h, y, K, D, ydense)
        events(t + m * h, ydense, p, gtmp)
        fm = gtmp[e]
        if fm == 0.0:
            return m
        if (fm > 0.0) == (fb > 0.0):
            b = m
            fb = fm
            if side == 1:
                fa *= 0.5
            side = 1
        else:
            a = m
            fa = fm
            if side == -1:
                fb *= 0.5
            side = -1
    return b


# --------------------------------------------------------------------------- driver
@_jit
def _erk_drive(
    scheme,
    y0,
    p,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    save_all,
    buf_t,
    buf_y,
):
    """Integrate one member from t0 to t1 with explicit scheme ``scheme`` (see module doc)."""
    n = y0.shape[0]
    n_ev = ev_dir.shape[0]
    max_ev = out_ev_t.shape[0]
    n_out = t_eval.shape[0]
    fsal, n_stage_evals, order, fixed_only = _erk_info(scheme)  # constants under numba
    if order == 8.0:
        q_expo = 1.0 / 8.0 - 0.2 * cfg[5]
    elif fixed_only:
        q_expo = 0.25
    else:
        q_expo = 0.2 - 0.75 * cfg[5]

    # scratch, allocated once per member (two allocations): stages K, dense output
    # coefficients D, the states; event values and roots
    work = np.zeros((28, n))
    K = work[0:16]
    D = work[16:24]
    y = work[24]
    ynew = work[25]
    yt = work[26]
    ydense = work[27]
    y[:] = y0
    ev_work = np.zeros((5, max(n_ev, 1)))
    g_old = ev_work[0]
    g_new = ev_work[1]
    g_tmp = ev_work[2]
    root_theta = ev_work[3]
    root_flag = ev_work[4]  # 1.0: a crossing to record in this step

    safety = cfg[2]
    fac_min = 1.0 / cfg[4]  # h / h_new >= 1 / max_factor
    fac_max = 1.0 / cfg[3]  # h / h_new <= 1 / min_factor
    beta = cfg[5]
    threshold = cfg[6]
    max_steps = int(min(cfg[7], 4.0e18))
    span = t1 - t0
    hmax = cfg[1] if cfg[1] > 0.0 else span
    hmax = min(hmax, span)
    fixed_dt = cfg[8]
    fixed = fixed_only or fixed_dt > 0.0
    if fixed and not fixed_dt > 0.0:
        fixed_dt = span * 1.0e-3
    detect = cfg[9] == 1.0 and order == 5.0 and not fixed_only
    patience = cfg[10] if cfg[10] >= 1.0 else 15.0

    t = t0
    rhs(t, y, p, K[0])
    nfev = 1
    naccept = 0
    nreject = 0
    # Continuation (Auto hands a member from one scheme to the next): rows of t_eval
    # before t0, event slots below counters[5] and saved rows below counters[8] belong to
    # an earlier scheme and are left alone.
    stored = counters[5]
    found = 0
    status = 0
    j = 0
    while j < n_out and t_eval[j] < t0:
        j += 1
    while j < n_out and t_eval[j] == t0:
        out_y[j, :] = y
        j += 1
    saved = 0
    if save_all == 1:
        saved = min(max(counters[8], 0), buf_t.shape[0])
        if saved == 0 or buf_t[saved - 1] != t0:
            buf_t, buf_y = _erk_append(buf_t, buf_y, saved, t, y)
            saved += 1
    if n_ev > 0:
        events(t, y, p, g_old)

    n_fixed = 0
    if fixed:
        h = fixed_dt
        n_fixed = math.ceil(span / fixed_dt * (1.0 - 1.0e-12))
        if n_fixed < 1:
            n_fixed = 1
    elif cfg[0] > 0.0:
        h = min(cfg[0], hmax)
    else:
        h = _erk_initial_step(order, t0, t1, y, p, K[0], rtol, atol, hmax, yt, K[1])
        nfev += 1
    facold = 1.0e-4
    rejected_last = False
    nonfinite_last = False
    stiff_count = 0.0
    nonstiff_count = 0
    stiff = False

    while True:
        if naccept + nreject >= max_steps:
            status = 4
            break
        last = False
        if fixed:
            if naccept + 1 >= n_fixed:
                h = t1 - t
                last = True
            else:
                h = (t0 + (naccept + 1) * fixed_dt) - t
        else:
            if h < 16.0 * _ERK_EPS * abs(t) or h < 1.0e-300:
                status = 3 if nonfinite_last else 5
                break
            if t + 1.01 * h >= t1:
                h = t1 - t
                last = True
        err = _erk_step(scheme, t, h, y, p, K, yt, ynew, rtol, atol)
        nfev += n_stage_evals
        if fixed and not err <= 1.0:
            status = 3
            break
        if not fixed and not err <= 1.0:
            # rejected: shrink (non-finite error estimates count as huge errors)
            nreject += 1
            rejected_last = True
            if math.isfinite(err):
                nonfinite_last = False
                h = h / min(fac_max, err**q_expo / safety)
            else:
                nonfinite_last = True
                h = h * cfg[3]
            continue

        # ---------------- accepted step
        naccept += 1
        nonfinite_last = False
        t_new = t1 if last else t + h
        if not fixed:
            fac11 = err**q_expo
            fac = fac11 / facold**beta
            fac = max(fac_min, min(fac_max, fac / safety))
            hnew = h / fac
            if rejected_last:
                hnew = min(hnew, h)
            facold = max(err, 1.0e-4)
        else:
            hnew = h
        rejected_last = False

        if detect:
            stnum = 0.0
            stden = 0.0
            for i in range(n):
                d1 = K[6, i] - K[5, i]
                d2 = ynew[i] - yt[i]
                stnum += d1 * d1
                stden += d2 * d2
            hlamb = h * math.sqrt(stnum / stden) if stden > 0.0 else 0.0
            if hlamb > 3.25:
                nonstiff_count = 0
                stiff_count += 1.0
                if stiff_count >= patience:
                    stiff = True
            else:
                nonstiff_count += 1
                if nonstiff_count == 6:
                    stiff_count = 0.0

        dense_ready = False
        stop_theta = 2.0
        if n_ev > 0:
            events(t_new, ynew, p, g_new)
            for e in range(n_ev):
                root_flag[e] = 0.0
                go = g_old[e]
                gn = g_new[e]
                up = go < 0.0 and gn >= 0.0
                down = go > 0.0 and gn <= 0.0
                if (up and ev_dir[e] >= 0) or (down and ev_dir[e] <= 0):
                    if gn == 0.0:
                        th = 1.0
                    else:
                        if not dense_ready:
                            nfev += _erk_prepare(scheme, t, h, y, ynew, p, K, yt, D)
                            dense_ready = True
                        th = _erk_locate(scheme, e, t, h, y, K, D, p, go, gn, ydense, g_tmp)
                    root_theta[e] = th
                    root_flag[e] = 1.0
                    if ev_term[e] == 1 and th < stop_theta:
                        stop_theta = th
            for e in range(n_ev):
                g_old[e] = g_new[e]

        # output times inside the step (up to a terminal event)
        t_lim = t_new if stop_theta >= 1.0 else t + stop_theta * h
        while j < n_out and t_eval[j] <= t_lim:
            if t_eval[j] == t_new:
                out_y[j, :] = ynew
            else:
                if not dense_ready:
                    nfev += _erk_prepare(scheme, t, h, y, ynew, p, K, yt, D)
                    dense_ready = True
                _erk_dense(scheme, (t_eval[j] - t) / h, h, y, K, D, out_y[j])
            j += 1

        # event records, in time order, up to the terminal one
        if n_ev > 0:
            while True:
                best = -1
                best_theta = 3.0
                for e in range(n_ev):
                    if root_flag[e] == 1.0 and root_theta[e] < best_theta:
                        best = e
                        best_theta = root_theta[e]
                if best < 0 or best_theta > stop_theta:
                    break
                root_flag[best] = 0.0
                found += 1
                if stored < max_ev:
                    if best_theta == 1.0:
                        out_ev_t[stored] = t_new
                        out_ev_y[stored, :] = ynew
                    else:
                        out_ev_t[stored] = t + best_theta * h
                        _erk_dense(scheme, best_theta, h, y, K, D, out_ev_y[stored])
                    out_ev_i[stored] = best
                    stored += 1

        if stop_theta <= 1.0:
            # terminal event: the member ends at the event
            if stop_theta == 1.0:
                t = t_new
                y[:] = ynew
            else:
                _erk_dense(scheme, stop_theta, h, y, K, D, ydense)
                t = t + stop_theta * h
                y[:] = ydense
            if save_all == 1:
                buf_t, buf_y = _erk_append(buf_t, buf_y, saved, t, y)
                saved += 1
            status = 1
            break

        # advance
        t = t_new
        big = 0.0
        for i in range(n):
            y[i] = ynew[i]
            K[0, i] = K[fsal, i]
            a = abs(ynew[i])
            if a > big:
                big = a
        if save_all == 1:
            buf_t, buf_y = _erk_append(buf_t, buf_y, saved, t, y)
            saved += 1
        if big > threshold:
            status = 2
            break
        if last:
            break
        if stiff:
            status = 8
            break
        h = min(hnew, hmax)

    counters[0] += naccept
    counters[1] += nreject
    counters[2] += nfev
    counters[5] = stored
    counters[6] = status
    counters[7] += found
    if save_all == 1:
        counters[8] = saved
    return t, y, buf_t, buf_y


# --------------------------------------------------------------------------- members
@_jit
def dopri5_member(
    y0,
    p,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    save_all,
    buf_t,
    buf_y,
):
    """Dormand-Prince 5(4) member (see the module docstring; ``tab`` is unused)."""
    return _erk_drive(
        0,
        y0,
        p,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )


@_jit
def tsit5_member(
    y0,
    p,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    save_all,
    buf_t,
    buf_y,
):
    """Tsitouras 5(4) member (see the module docstring; ``tab`` is unused)."""
    return _erk_drive(
        1,
        y0,
        p,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )


@_jit
def dop853_member(
    y0,
    p,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    save_all,
    buf_t,
    buf_y,
):
    """DOP853 member (see the module docstring; ``tab`` is unused)."""
    return _erk_drive(
        2,
        y0,
        p,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )


@_jit
def rk4_member(
    y0,
    p,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    save_all,
    buf_t,
    buf_y,
):
    """Classical RK4 member with fixed step ``cfg[8]`` (``tab`` is unused)."""
    return _erk_drive(
        3,
        y0,
        p,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )


# --------------------------------------------------------------------------- Auto
@_jit
def _erk_auto_start(
    scheme,
    y0,
    p,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    save_all,
    buf_t,
    buf_y,
):
    """The nonstiff part of Auto: ``scheme`` with stiffness detection switched on."""
    cfg1 = cfg.copy()
    cfg1[9] = 1.0
    return _erk_drive(
        scheme,
        y0,
        p,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg1,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )


@_jit
def _erk_auto_handover(cfg, counters):
    """Settings of the stiff continuation; marks the switch in counters[9].

    The stiff member chooses its own first step, and ``max_steps`` counts the steps of
    both schemes together.
    """
    counters[9] = 1
    cfg2 = cfg.copy()
    cfg2[0] = 0.0
    cfg2[9] = 0.0
    cfg2[7] = max(cfg[7] - counters[0] - counters[1], 1.0)
    return cfg2


@_jit
def auto_member(
    y0,
    p,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    save_all,
    buf_t,
    buf_y,
):
    """Dopri5, then Rodas5 once stiffness is detected.

    The stiff member (rosenbrock.py) continues from (t_final, y_final) on the same
    output arrays and counters: it leaves the t_eval rows before its t0, the event
    slots below counters[5] and the saved rows below counters[8] alone.
    """
    tf, yf, buf_t, buf_y = _erk_auto_start(
        0,
        y0,
        p,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )
    if counters[6] != 8:
        return tf, yf, buf_t, buf_y
    cfg2 = _erk_auto_handover(cfg, counters)
    return rodas5_member(
        yf,
        p,
        tf,
        t1,
        t_eval,
        rtol,
        atol,
        cfg2,
        tab,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )


@_jit
def auto23_member(
    y0,
    p,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    save_all,
    buf_t,
    buf_y,
):
    """Dopri5, then Rosenbrock23 once stiffness is detected.

    The stiff member (rosenbrock.py) continues from (t_final, y_final) on the same
    output arrays and counters: it leaves the t_eval rows before its t0, the event
    slots below counters[5] and the saved rows below counters[8] alone.
    """
    tf, yf, buf_t, buf_y = _erk_auto_start(
        0,
        y0,
        p,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )
    if counters[6] != 8:
        return tf, yf, buf_t, buf_y
    cfg2 = _erk_auto_handover(cfg, counters)
    return ros23_member(
        yf,
        p,
        tf,
        t1,
        t_eval,
        rtol,
        atol,
        cfg2,
        tab,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )


@_jit
def autots_member(
    y0,
    p,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    save_all,
    buf_t,
    buf_y,
):
    """Tsit5, then Rodas5 once stiffness is detected.

    The stiff member (rosenbrock.py) continues from (t_final, y_final) on the same
    output arrays and counters: it leaves the t_eval rows before its t0, the event
    slots below counters[5] and the saved rows below counters[8] alone.
    """
    tf, yf, buf_t, buf_y = _erk_auto_start(
        1,
        y0,
        p,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )
    if counters[6] != 8:
        return tf, yf, buf_t, buf_y
    cfg2 = _erk_auto_handover(cfg, counters)
    return rodas5_member(
        yf,
        p,
        tf,
        t1,
        t_eval,
        rtol,
        atol,
        cfg2,
        tab,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )


@_jit
def autots23_member(
    y0,
    p,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    save_all,
    buf_t,
    buf_y,
):
    """Tsit5, then Rosenbrock23 once stiffness is detected.

    The stiff member (rosenbrock.py) continues from (t_final, y_final) on the same
    output arrays and counters: it leaves the t_eval rows before its t0, the event
    slots below counters[5] and the saved rows below counters[8] alone.
    """
    tf, yf, buf_t, buf_y = _erk_auto_start(
        1,
        y0,
        p,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )
    if counters[6] != 8:
        return tf, yf, buf_t, buf_y
    cfg2 = _erk_auto_handover(cfg, counters)
    return ros23_member(
        yf,
        p,
        tf,
        t1,
        t_eval,
        rtol,
        atol,
        cfg2,
        tab,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )


# --------------------------------------------------------------------------- ensembles
# ``<name>_batch(lo, hi, ...)`` integrates members lo..hi-1 of an ensemble (the arguments
# of ``<name>_ensemble``) on its own copies of the shared inputs and outputs, which it
# writes back at the end: every call of a member increments and decrements the
# reference counts of the arrays it is given (atomic operations), and on arrays shared
# by all threads those would contend for one cache line. solve_ensemble runs batches
# from a pool of threads (the kernels release the GIL); ``<name>_ensemble`` is the same
# as one prange loop over batches of _ERK_CHUNK members.
_ERK_CHUNK = 16


def _erk_member(
    kind,
    y0,
    p,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    save_all,
    buf_t,
    buf_y,
):
    """Member kernel ``kind`` (0 dopri5 ... 7 autots23, as in _ERK_MEMBERS)."""
    fn = _ERK_MEMBERS[kind]
    return fn(
        y0,
        p,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        tab,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    )


_ERK_MEMBERS = (
    dopri5_member,
    tsit5_member,
    dop853_member,
    rk4_member,
    auto_member,
    auto23_member,
    autots_member,
    autots23_member,
)

if NUMBA:

    @_erk_overload(_erk_member, prefer_literal=True, inline="always")
    def _erk_member_overload(
        kind,
        y0,
        p,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        tab,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        save_all,
        buf_t,
        buf_y,
    ):
        fn = _ERK_MEMBERS[_erk_scheme_of(kind)]

        def impl(
            kind,
            y0,
            p,
            t0,
            t1,
            t_eval,
            rtol,
            atol,
            cfg,
            tab,
            ev_dir,
            ev_term,
            out_y,
            out_ev_t,
            out_ev_y,
            out_ev_i,
            counters,
            save_all,
            buf_t,
            buf_y,
        ):
            return fn(
                y0,
                p,
                t0,
                t1,
                t_eval,
                rtol,
                atol,
                cfg,
                tab,
                ev_dir,
                ev_term,
                out_y,
                out_ev_t,
                out_ev_y,
                out_ev_i,
                counters,
                save_all,
                buf_t,
                buf_y,
            )

        return impl


@_erk_ijit
def _erk_chunk(
    kind,
    lo,
    hi,
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members lo..hi-1 of an ensemble, on thread-local copies (see above)."""
    k = hi - lo
    n = y0s.shape[1]
    y0c = y0s[lo:hi].copy()
    pc = ps[lo:hi].copy()
    tec = t_eval.copy()
    rtc = rtol.copy()
    atc = atol.copy()
    cfc = cfg.copy()
    tbc = tab.copy()
    edc = ev_dir.copy()
    etc = ev_term.copy()
    oy = np.full((k, out_y.shape[1], n), np.nan)
    oet = np.full((k, out_ev_t.shape[1]), np.nan)
    oey = np.full((k, out_ev_y.shape[1], n), np.nan)
    oei = np.full((k, out_ev_i.shape[1]), -1, dtype=np.int64)
    cnt = np.zeros((k, 16), dtype=np.int64)
    bt = np.empty(1)
    by = np.empty((1, n))
    no_save = np.int64(0)
    for i in range(k):
        tf, _yf, bt, by = _erk_member(
            kind,
            y0c[i],
            pc[i],
            t0,
            t1,
            tec,
            rtc,
            atc,
            cfc,
            tbc,
            edc,
            etc,
            oy[i],
            oet[i],
            oey[i],
            oei[i],
            cnt[i],
            no_save,
            bt,
            by,
        )
        t_final[lo + i] = tf
    out_y[lo:hi] = oy
    out_ev_t[lo:hi] = oet
    out_ev_y[lo:hi] = oey
    out_ev_i[lo:hi] = oei
    counters[lo:hi] = cnt


@_jit
def dopri5_batch(
    lo,
    hi,
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members lo..hi-1 of ``dopri5_ensemble``'s arguments (see above)."""
    _erk_chunk(
        0,
        lo,
        hi,
        y0s,
        ps,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        tab,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        t_final,
    )


@_jit
def tsit5_batch(
    lo,
    hi,
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members lo..hi-1 of ``tsit5_ensemble``'s arguments (see above)."""
    _erk_chunk(
        1,
        lo,
        hi,
        y0s,
        ps,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        tab,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        t_final,
    )


@_jit
def dop853_batch(
    lo,
    hi,
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members lo..hi-1 of ``dop853_ensemble``'s arguments (see above)."""
    _erk_chunk(
        2,
        lo,
        hi,
        y0s,
        ps,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        tab,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        t_final,
    )


@_jit
def rk4_batch(
    lo,
    hi,
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members lo..hi-1 of ``rk4_ensemble``'s arguments (see above)."""
    _erk_chunk(
        3,
        lo,
        hi,
        y0s,
        ps,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        tab,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        t_final,
    )


@_jit
def auto_batch(
    lo,
    hi,
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members lo..hi-1 of ``auto_ensemble``'s arguments (see above)."""
    _erk_chunk(
        4,
        lo,
        hi,
        y0s,
        ps,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        tab,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        t_final,
    )


@_jit
def auto23_batch(
    lo,
    hi,
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members lo..hi-1 of ``auto23_ensemble``'s arguments (see above)."""
    _erk_chunk(
        5,
        lo,
        hi,
        y0s,
        ps,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        tab,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        t_final,
    )


@_jit
def autots_batch(
    lo,
    hi,
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members lo..hi-1 of ``autots_ensemble``'s arguments (see above)."""
    _erk_chunk(
        6,
        lo,
        hi,
        y0s,
        ps,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        tab,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        t_final,
    )


@_jit
def autots23_batch(
    lo,
    hi,
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members lo..hi-1 of ``autots23_ensemble``'s arguments (see above)."""
    _erk_chunk(
        7,
        lo,
        hi,
        y0s,
        ps,
        t0,
        t1,
        t_eval,
        rtol,
        atol,
        cfg,
        tab,
        ev_dir,
        ev_term,
        out_y,
        out_ev_t,
        out_ev_y,
        out_ev_i,
        counters,
        t_final,
    )


@_pjit
def dopri5_ensemble(
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members of ``dopri5_member`` in parallel (prange over batches), without save_all."""
    m = y0s.shape[0]
    num_chunks = (m + _ERK_CHUNK - 1) // _ERK_CHUNK
    for c in prange(num_chunks):
        lo = c * _ERK_CHUNK
        hi = min(lo + _ERK_CHUNK, m)
        dopri5_batch(
            lo,
            hi,
            y0s,
            ps,
            t0,
            t1,
            t_eval,
            rtol,
            atol,
            cfg,
            tab,
            ev_dir,
            ev_term,
            out_y,
            out_ev_t,
            out_ev_y,
            out_ev_i,
            counters,
            t_final,
        )


@_pjit
def tsit5_ensemble(
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members of ``tsit5_member`` in parallel (prange over batches), without save_all."""
    m = y0s.shape[0]
    num_chunks = (m + _ERK_CHUNK - 1) // _ERK_CHUNK
    for c in prange(num_chunks):
        lo = c * _ERK_CHUNK
        hi = min(lo + _ERK_CHUNK, m)
        tsit5_batch(
            lo,
            hi,
            y0s,
            ps,
            t0,
            t1,
            t_eval,
            rtol,
            atol,
            cfg,
            tab,
            ev_dir,
            ev_term,
            out_y,
            out_ev_t,
            out_ev_y,
            out_ev_i,
            counters,
            t_final,
        )


@_pjit
def dop853_ensemble(
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members of ``dop853_member`` in parallel (prange over batches), without save_all."""
    m = y0s.shape[0]
    num_chunks = (m + _ERK_CHUNK - 1) // _ERK_CHUNK
    for c in prange(num_chunks):
        lo = c * _ERK_CHUNK
        hi = min(lo + _ERK_CHUNK, m)
        dop853_batch(
            lo,
            hi,
            y0s,
            ps,
            t0,
            t1,
            t_eval,
            rtol,
            atol,
            cfg,
            tab,
            ev_dir,
            ev_term,
            out_y,
            out_ev_t,
            out_ev_y,
            out_ev_i,
            counters,
            t_final,
        )


@_pjit
def rk4_ensemble(
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members of ``rk4_member`` in parallel (prange over batches), without save_all."""
    m = y0s.shape[0]
    num_chunks = (m + _ERK_CHUNK - 1) // _ERK_CHUNK
    for c in prange(num_chunks):
        lo = c * _ERK_CHUNK
        hi = min(lo + _ERK_CHUNK, m)
        rk4_batch(
            lo,
            hi,
            y0s,
            ps,
            t0,
            t1,
            t_eval,
            rtol,
            atol,
            cfg,
            tab,
            ev_dir,
            ev_term,
            out_y,
            out_ev_t,
            out_ev_y,
            out_ev_i,
            counters,
            t_final,
        )


@_pjit
def auto_ensemble(
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members of ``auto_member`` in parallel (prange over batches), without save_all."""
    m = y0s.shape[0]
    num_chunks = (m + _ERK_CHUNK - 1) // _ERK_CHUNK
    for c in prange(num_chunks):
        lo = c * _ERK_CHUNK
        hi = min(lo + _ERK_CHUNK, m)
        auto_batch(
            lo,
            hi,
            y0s,
            ps,
            t0,
            t1,
            t_eval,
            rtol,
            atol,
            cfg,
            tab,
            ev_dir,
            ev_term,
            out_y,
            out_ev_t,
            out_ev_y,
            out_ev_i,
            counters,
            t_final,
        )


@_pjit
def auto23_ensemble(
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members of ``auto23_member`` in parallel (prange over batches), without save_all."""
    m = y0s.shape[0]
    num_chunks = (m + _ERK_CHUNK - 1) // _ERK_CHUNK
    for c in prange(num_chunks):
        lo = c * _ERK_CHUNK
        hi = min(lo + _ERK_CHUNK, m)
        auto23_batch(
            lo,
            hi,
            y0s,
            ps,
            t0,
            t1,
            t_eval,
            rtol,
            atol,
            cfg,
            tab,
            ev_dir,
            ev_term,
            out_y,
            out_ev_t,
            out_ev_y,
            out_ev_i,
            counters,
            t_final,
        )


@_pjit
def autots_ensemble(
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members of ``autots_member`` in parallel (prange over batches), without save_all."""
    m = y0s.shape[0]
    num_chunks = (m + _ERK_CHUNK - 1) // _ERK_CHUNK
    for c in prange(num_chunks):
        lo = c * _ERK_CHUNK
        hi = min(lo + _ERK_CHUNK, m)
        autots_batch(
            lo,
            hi,
            y0s,
            ps,
            t0,
            t1,
            t_eval,
            rtol,
            atol,
            cfg,
            tab,
            ev_dir,
            ev_term,
            out_y,
            out_ev_t,
            out_ev_y,
            out_ev_i,
            counters,
            t_final,
        )


@_pjit
def autots23_ensemble(
    y0s,
    ps,
    t0,
    t1,
    t_eval,
    rtol,
    atol,
    cfg,
    tab,
    ev_dir,
    ev_term,
    out_y,
    out_ev_t,
    out_ev_y,
    out_ev_i,
    counters,
    t_final,
):
    """Members of ``autots23_member`` in parallel (prange over batches), without save_all."""
    m = y0s.shape[0]
    num_chunks = (m + _ERK_CHUNK - 1) // _ERK_CHUNK
    for c in prange(num_chunks):
        lo = c * _ERK_CHUNK
        hi = min(lo + _ERK_CHUNK, m)
        autots23_batch(
            lo,
            hi,
            y0s,
            ps,
            t0,
            t1,
            t_eval,
            rtol,
            atol,
            cfg,
            tab,
            ev_dir,
            ev_term,
            out_y,
            out_ev_t,
            out_ev_y,
            out_ev_i,
            counters,
            t_final,
        )
