"""Tests of the report plots and the ESPnet train.log parser."""
import numpy as np
import pytest

from espnet_ser.eval.plots import parse_train_log, plot_confusion, plot_training_curves, plot_tsne

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

LOG = """\
[host] 2025-01-01 10:00:00,000 (trainer:300) INFO: 1/3epoch started
[host] 2025-01-01 10:00:10,000 (trainer:350) INFO: 1epoch results: [train] iter_time=0.001, loss=2.000, acc=0.300, time=1 minute and 2.5 seconds, total_count=70, gpu_max_cached_mem_GB=0.0, [valid] loss=1.900, acc=0.350, time=3 seconds, total_count=10, [att_plot] time=0.1 seconds, total_count=0
[host] 2025-01-01 10:00:20,000 (trainer:350) INFO: 2epoch results: [train] loss=1.500, acc=0.500, lr_0=1.000e-03, time=9 seconds, total_count=140, [valid] loss=1.600, acc=0.450, time=3 seconds, total_count=20
[host] 2025-01-01 10:00:30,000 (trainer:350) INFO: 2epoch results: [train] loss=1.400, acc=0.550, time=9 seconds, total_count=140, [valid] loss=1.550, acc=0.470, time=3 seconds, total_count=20
"""


def _is_png(path):
    data = path.read_bytes()
    return len(data) > 1000 and data[:8] == PNG_MAGIC


def test_parse_train_log(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(LOG)
    epochs = parse_train_log(log)
    assert [e["epoch"]["epoch"] for e in epochs] == [1.0, 2.0]
    assert epochs[0]["train"]["loss"] == pytest.approx(2.0)
    assert epochs[0]["valid"]["acc"] == pytest.approx(0.35)
    assert "time" not in epochs[0]["train"]  # '1 minute and 2.5 seconds' is not a number
    assert epochs[1]["train"]["loss"] == pytest.approx(1.4)  # resumed epoch: last line wins
    png = tmp_path / "curves.png"
    assert plot_training_curves(epochs, png) == ["loss", "acc"]
    assert _is_png(png)
    with pytest.raises(ValueError, match="no '<N>epoch results:'"):
        plot_training_curves([], tmp_path / "x.png")


def test_parse_train_log_reads_kept_logs_first(tmp_path):
    """A resumed run: ser.sh kept the earlier logs as train.log.1, .2 (1 = oldest)."""
    first, second = LOG.splitlines(keepends=True)[:2], LOG.splitlines(keepends=True)[2:3]
    (tmp_path / "train.log.1").write_text("".join(first))        # epoch 1
    (tmp_path / "train.log.2").write_text("".join(second))       # epoch 2 (first report)
    (tmp_path / "train.log.bak").write_text(LOG.replace("loss=2.000", "loss=9.000"))  # not a kept log
    log = tmp_path / "train.log"
    log.write_text(LOG.splitlines(keepends=True)[3])             # epoch 2 again: the newest wins
    epochs = parse_train_log(log)
    assert [e["epoch"]["epoch"] for e in epochs] == [1.0, 2.0]
    assert epochs[0]["train"]["loss"] == pytest.approx(2.0)
    assert epochs[1]["train"]["loss"] == pytest.approx(1.4)
    log.write_text("")                                           # resumed, nothing new yet
    assert [e["train"]["loss"] for e in parse_train_log(log)] == pytest.approx([2.0, 1.5])


def test_plot_confusion(tmp_path):
    png = tmp_path / "c.png"
    plot_confusion([[5, 1], [0, 0]], ["ang", "sad"], png, title="t")
    assert _is_png(png)
    with pytest.raises(ValueError, match="shape"):
        plot_confusion([[1, 2]], ["a", "b"], tmp_path / "d.png")


def test_plot_tsne_subsamples(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 8))
    emo = ["ang", "neu", "sad"] * 50
    spk = [f"s{i % 5}" for i in range(150)]
    png = tmp_path / "tsne.png"
    assert plot_tsne(X, emo, spk, png, max_points=100) == 100
    assert _is_png(png)
    with pytest.raises(ValueError, match="at least 5"):
        plot_tsne(X[:3], emo[:3], spk[:3], tmp_path / "e.png")


def test_embedding_map_rows_are_systems_columns_colourings(tmp_path):
    import numpy as np

    from espnet_ser.eval.plots import plot_embedding_map

    rng = np.random.default_rng(0)
    labels = {"corpus": ["emodb"] * 10 + ["tess"] * 10, "emotion": ["high", "low"] * 10}
    systems = [("baseline", rng.normal(size=(20, 8)), labels), ("dann", rng.normal(size=(20, 8)), labels)]
    for method in ("pca", "tsne"):
        out = tmp_path / f"{method}.png"
        assert plot_embedding_map(systems, ["corpus", "emotion"], out, method=method, max_points=15) == 15
        assert out.stat().st_size > 1000
    with pytest.raises(ValueError, match="method must be pca or tsne"):
        plot_embedding_map(systems, ["corpus"], tmp_path / "x.png", method="umap")
    with pytest.raises(ValueError, match="one label per row"):
        plot_embedding_map([("b", rng.normal(size=(20, 8)), {"corpus": ["a"]})], ["corpus"], tmp_path / "y.png")
