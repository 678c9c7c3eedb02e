"""Plots of tables (boolgrad.plot): exact path, readable axes, no global matplotlib state."""

import numpy as np
import pytest

from boolgrad import closed_form_table
from boolgrad.plot import _decade_ticks, check_plot_path, plot_table

mpl = pytest.importorskip("matplotlib", reason="plots need matplotlib")
image = pytest.importorskip("matplotlib.image")


def test_decade_ticks_are_few_and_apart():
    u = np.array([-3.4e38, -1.0, 0.0, 0.3, 1.0, 3.4e38])
    ticks, labels = _decade_ticks(u, 0.3)
    assert len(ticks) <= 7 and len(set(labels)) == len(labels) and 0.0 in ticks
    pos = sorted(np.log10(t) for t in ticks if t > 0)
    assert all(b - a >= 10 for a, b in zip(pos[:-1], pos[1:]))  # float32: >= 10 decades apart


@pytest.mark.parametrize("fmt, theta, wrt", [("float32", 0.3, "u"), ("float16", 0.3, "theta"), ("ufixed16.12", 0.3, "u")])
def test_plot_writes_a_picture_exactly_there_without_touching_the_backend(tmp_path, fmt, theta, wrt):
    backend = mpl.get_backend()
    path = plot_table(closed_form_table(fmt, theta, wrt=wrt), tmp_path / "p.png")
    assert path == tmp_path / "p.png" and sorted(x.name for x in tmp_path.iterdir()) == ["p.png"]
    img = image.imread(path)
    assert img.shape[0] > 300 and float(img[..., :3].std()) > 0.05  # not blank
    assert mpl.get_backend() == backend


def test_plot_path_must_name_an_image_file(tmp_path):
    with pytest.raises(ValueError, match="must end in"):
        check_plot_path(tmp_path / "x")
    with pytest.raises(OSError, match="does not exist"):
        check_plot_path(tmp_path / "nope" / "x.png")
