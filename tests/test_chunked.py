"""The chunked (beyond-memory) path gives the in-memory numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicestudy.chunked import moments, moments_parquet
from servicestudy.errors import DataError


def _likert(n: int, p: int, seed: int, miss: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 1))
    x = np.clip(np.round(3 + latent + rng.normal(size=(n, p))), 1, 5)
    if miss:
        x[rng.random(size=x.shape) < miss] = np.nan
    return pd.DataFrame(x, columns=[f"i{k}" for k in range(p)])


def _chunks(df: pd.DataFrame, size: int):
    return (df.iloc[i : i + size] for i in range(0, len(df), size))


def test_pairwise_moments_match_pandas_with_missing_values():
    df = _likert(2000, 6, seed=3, miss=0.1)
    m = moments(_chunks(df, 333), columns=df.columns)
    # pandas' cov/corr use pairwise-complete observations, as R's use = "pairwise"
    np.testing.assert_allclose(m.cov().to_numpy(), df.cov().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(m.corr().to_numpy(), df.corr().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(m.mean(), df.mean().to_numpy(), rtol=1e-13)
    assert m.n_rows == 2000
    assert np.diag(m.n).tolist() == df.notna().sum().tolist()


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 400), st.integers(0, 2**31 - 1))
def test_chunk_size_does_not_change_the_moments(size, seed):
    df = _likert(400, 4, seed=seed, miss=0.05)
    whole = moments(df, columns=df.columns)
    parts = moments(_chunks(df, size), columns=df.columns)
    np.testing.assert_allclose(parts.cov().to_numpy(), whole.cov().to_numpy(), rtol=1e-10, atol=1e-12)


def test_parquet_batches_equal_in_memory(tmp_path):
    df = _likert(5000, 5, seed=11, miss=0.02)
    path = tmp_path / "x.parquet"
    df.to_parquet(path)
    m = moments_parquet(path, columns=df.columns, batch_size=777)
    np.testing.assert_allclose(m.corr().to_numpy(), df.corr().to_numpy(), rtol=1e-12)


def test_dask_partitions_equal_in_memory():
    import dask.dataframe as dd  # locked dependency: never skipped
    from distributed import Client, LocalCluster

    from servicestudy.chunked import moments_dask

    df = _likert(3000, 5, seed=5, miss=0.03)
    ddf = dd.from_pandas(df, npartitions=6)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, Client(cluster):
        m = moments_dask(ddf, columns=list(df.columns))
    np.testing.assert_allclose(m.cov().to_numpy(), df.cov().to_numpy(), rtol=1e-12)


def test_unknown_and_non_numeric_columns_are_named():
    df = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    with pytest.raises(DataError, match="zz"):
        moments(df, columns=["a", "zz"])
    with pytest.raises(DataError, match="non-numeric"):
        moments(df, columns=["a", "b"])


def test_merging_moments_with_different_shifts():
    df = _likert(600, 4, seed=8, miss=0.05)
    a = moments(df.iloc[:250] + 10.0, columns=df.columns)  # different shift from b's
    b = moments(df.iloc[250:], columns=df.columns)
    a = moments(df.iloc[:250], columns=df.columns).reshift(a.shift)
    merged = b.merge(a)
    np.testing.assert_allclose(merged.cov().to_numpy(), df.cov().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(merged.corr().to_numpy(), df.corr().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(merged.mean(), df.mean().to_numpy(), rtol=1e-13)


@pytest.fixture(scope="module")
def items_with_gaps() -> pd.DataFrame:
    df = _likert(3000, 8, seed=21, miss=0.04)
    df.iloc[[5, 700, 2999]] = np.nan  # rows with no answer at all count nowhere
    return df


def test_alpha_from_chunks_equals_in_memory(items_with_gaps):
    from servicestudy import alpha
    from servicestudy.chunked import alpha_chunked

    df = items_with_gaps
    full = alpha(df)
    part = alpha_chunked(moments(_chunks(df, 451), columns=df.columns))
    for field in ("alpha", "std_alpha", "g6", "average_r", "signal_noise", "ase"):
        assert getattr(part, field) == pytest.approx(getattr(full, field), rel=1e-10), field
    assert part.n_obs == full.n_obs


def test_kmo_bartlett_efa_from_chunks_equal_in_memory(items_with_gaps):
    from servicestudy import bartlett, efa, kmo
    from servicestudy.chunked import bartlett_chunked, efa_chunked, kmo_chunked

    df = items_with_gaps
    m = moments(_chunks(df, 700), columns=df.columns)
    assert kmo_chunked(m).overall == pytest.approx(kmo(df).overall, rel=1e-10)
    np.testing.assert_allclose(kmo_chunked(m).per_item.to_numpy(), kmo(df).per_item.to_numpy(), rtol=1e-10)
    assert bartlett_chunked(m).statistic == pytest.approx(bartlett(df).statistic, rel=1e-10)
    a, b = efa_chunked(m, 2).loadings, efa(df, 2).loadings
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-8, atol=1e-10)
    fa_c, fa_m = efa_chunked(m, 2), efa(df, 2)
    assert fa_c.to_frame().shape == fa_m.to_frame().shape
    for field in ("statistic", "rmsea", "tli", "bic"):
        if hasattr(fa_m, field):
            assert getattr(fa_c, field) == pytest.approx(getattr(fa_m, field), rel=1e-8), field


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1", "HC3"])
def test_ols_from_chunks_equals_in_memory(tmp_path, cov_type):
    from servicestudy import ols
    from servicestudy.chunked import ols_chunked

    df = _likert(4000, 5, seed=9, miss=0.01)
    rng = np.random.default_rng(4)
    df["y"] = 0.5 * df["i0"] - 0.3 * df["i1"] + 0.2 * df["i2"] + rng.standard_normal(len(df)) * (1 + 0.3 * df["i3"].fillna(3))
    path = tmp_path / "d.parquet"
    df.to_parquet(path)
    preds = ["i0", "i1", "i2", "i3", "i4"]
    full = ols(df, "y", preds, cov_type=cov_type)
    part = ols_chunked(path, "y", preds, cov_type=cov_type)
    cols = ["estimate", "std_error", "statistic", "ci_low", "ci_high"]
    np.testing.assert_allclose(part.coefficients[cols].to_numpy(), full.coefficients.loc[part.coefficients.index, cols].to_numpy(), rtol=1e-9)
    assert part.r2 == pytest.approx(full.r2, rel=1e-10)
    assert part.f_statistic == pytest.approx(full.f_statistic, rel=1e-10)
    assert (part.n_obs, part.n_dropped) == (full.n_obs, full.n_dropped)
