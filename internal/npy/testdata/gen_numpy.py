#!/usr/bin/python3
"""Regenerates the .npy fixtures with NumPy's np.save (run with the system
python: /usr/bin/python3 gen_numpy.py; Debian: apt-get install python3-numpy).

Values are i/8 - 1 (exact in float32) in C order; fortran_f8.npy is the same
2x3 array stored column-major.
"""
import numpy as np

a = (np.arange(6, dtype=np.float64) / 8 - 1).reshape(2, 3)
np.save("c_f8_2x3.npy", a)
np.save("c_f4_2x3.npy", a.astype(np.float32))
np.save("c_f8_2x1x3.npy", a.reshape(2, 1, 3))
np.save("c_f8_4.npy", a.flatten())
np.save("fortran_f8.npy", np.asfortranarray(a))
