    # -- files ------------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        return {n: np.ascontiguousarray(getattr(self, n), dtype=_DTYPES[n]) for n in _ARRAYS}

    def _meta_dict(self) -> dict:
        d = asdict(self.meta)
        d["excluded_bits"] = list(d["excluded_bits"])
        return d

    @staticmethod
    def _checksum(meta: dict, arrays: dict[str, np.ndarray]) -> str:
        h = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
        for n in _ARRAYS:
            h.update(np.ascontiguousarray(arrays[n], dtype=_DTYPES[n]).tobytes())
        return h.hexdigest()

    def save(self, path) -> Path:
        """Write the portable ``.npz`` (layout in the module docstring)."""
        path = Path(path)
        arrays = self._arrays()
        meta = self._meta_dict()
        meta["checksum"] = self._checksum(meta, arrays)
        with open(path, "wb") as fh:  # a file object keeps numpy from appending ".npz"
            np.savez_compressed(fh, meta=np.asarray(json.dumps(meta, sort_keys=True)), **arrays)
        return path

    @classmethod
    def load(cls, path) -> GradientTable:
        """Read a table written by :meth:`save`, verifying schema, checksum and runs.

        Raises :class:`TableFileError` naming the file and the problem.
        """
        path = Path(path)

        def fail(problem):
            return TableFileError(f"{path}: {problem}")

        try:
            with np.load(path, allow_pickle=False) as d:
                names = set(d.files)
                missing = {"meta", *_ARRAYS} - names
                if missing:
                    raise fail(f"not a boolgrad table (missing {', '.join(sorted(missing))})")
                raw_meta = str(d["meta"][()])
                arrays = {n: d[n] for n in _ARRAYS}
        except TableFileError:
            raise
        except FileNotFoundError:
            raise fail("no such file") from None
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
            raise fail(f"not a readable table file ({type(exc).__name__}: {exc})") from None
        try:
            meta = json.loads(raw_meta)
            if not isinstance(meta, dict):
                raise ValueError("metadata is not an object")
        except ValueError as exc:
            raise fail(f"corrupted metadata ({exc})") from None
        schema = meta.get("schema")
        if schema != SCHEMA_VERSION:
            raise fail(f"schema version {schema!r}, this boolgrad reads {SCHEMA_VERSION}")
        stored = meta.pop("checksum", None)
        for n in _ARRAYS:
            if arrays[n].dtype != np.dtype(_DTYPES[n]) or arrays[n].ndim != 1:
                raise fail(f"array {n!r} has dtype {arrays[n].dtype} and {arrays[n].ndim} dims")
        if stored != cls._checksum(meta, arrays):
            raise fail("checksum mismatch (the file is corrupted or was edited)")
        try:
            meta["excluded_bits"] = tuple(meta["excluded_bits"])
            table = cls(meta=TableMeta(**meta), **arrays)
            table.validate()
        except (TypeError, ValueError) as exc:
            raise fail(f"inconsistent table ({exc})") from None
        return table

    def validate(self) -> None:
        """Check that the runs partition the non-NaN patterns; raise ``ValueError`` if not."""
        fmt = self.fmt
        n = len(self.mask)
        if not n or any(len(getattr(self, a)) != n for a in _ARRAYS):
            raise ValueError("run arrays are empty or of different lengths")
        if bool(fmt.is_nan(self.first).any() | fmt.is_nan(self.last).any()):
            raise ValueError("a run starts or ends at a NaN pattern")
        first_r, last_r = self.first_rank, fmt.rank(self.last)
        if int(first_r[0]) != 0 or int(last_r[-1]) != fmt.n_ranks - 1:
            raise ValueError("runs do not cover every non-NaN pattern")
        if not (np.array_equal(first_r[1:], last_r[:-1] + np.uint64(1)) and (last_r >= first_r).all()):
            raise ValueError("runs are not consecutive")
        if n > 1 and not (self.mask[1:] != self.mask[:-1]).all():
            raise ValueError("neighbouring runs share a mask (not maximal)")
        for name, pats in (("first_value", self.first), ("last_value", self.last)):
            if not np.array_equal(fmt.decode(pats), getattr(self, name), equal_nan=True):
                raise ValueError(f"{name} does not match the patterns")

    def to_csv(self, path) -> Path:
        """One row per run; metadata as leading ``# key: value`` lines."""
        path = Path(path)
        n = self.fmt.bits
        with open(path, "w", newline="") as fh:
            for k, v in self._meta_dict().items():
                fh.write(f"# {k}: {json.dumps(v)}\n")
            w = csv.writer(fh)
            w.writerow(["first_pattern", "last_pattern", "first_value", "last_value", "count", "mask", "mask_bits"])
            for f, l, fv, lv, c, m in zip(
                self.first, self.last, self.first_value, self.last_value, self.counts, self.mask
            ):
                w.writerow([int(f), int(l), repr(float(fv)), repr(float(lv)), int(c), int(m), format(int(m), f"0{n}b")])
        return path


