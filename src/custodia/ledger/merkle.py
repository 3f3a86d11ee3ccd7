"""An append-only Merkle tree as in Certificate Transparency (RFC 6962 §2.1, RFC 9162 §2.1).

leaf hash = SHA-256(0x00 ‖ leaf), node hash = SHA-256(0x01 ‖ left ‖ right). Proofs are built
from the hashes of complete, aligned subtrees — (level, index) covers leaves
[index·2^level, (index+1)·2^level) — which a store keeps, so a proof needs O(log n) stored
hashes, never the whole log. Verification follows RFC 9162's algorithms. Pure: no Django.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator

Hash = bytes
# Looks up the hash of a complete aligned subtree: (level, index) -> hash.
Lookup = Callable[[int, int], Hash]


def leaf_hash(leaf: bytes) -> Hash:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: Hash, right: Hash) -> Hash:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_aligned_power(start: int, n: int) -> bool:
    return n & (n - 1) == 0 and start % n == 0


def range_hash(start: int, end: int, lookup: Lookup) -> Hash:
    """MTH(D[start:end]) for a range the RFC's recursions produce (start aligned)."""
    n = end - start
    if n <= 0:
        raise ValueError("empty range")
    if _is_aligned_power(start, n):
        return lookup(n.bit_length() - 1, start // n)
    k = _split(n)
    return node_hash(range_hash(start, start + k, lookup), range_hash(start + k, end, lookup))


def root(size: int, lookup: Lookup) -> Hash:
    return EMPTY_ROOT if size == 0 else range_hash(0, size, lookup)


def inclusion_proof(index: int, size: int, lookup: Lookup) -> list[Hash]:
    """PATH(index, D[0:size]) (RFC 6962 §2.1.1)."""
    if not 0 <= index < size:
        raise ValueError("index outside the tree")

    def path(m: int, start: int, end: int) -> list[Hash]:
        n = end - start
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return [*path(m, start, start + k), range_hash(start + k, end, lookup)]
        return [*path(m - k, start + k, end), range_hash(start, start + k, lookup)]

    return path(index, 0, size)


def consistency_proof(first: int, second: int, lookup: Lookup) -> list[Hash]:
    """PROOF(first, D[0:second]) (RFC 6962 §2.1.2)."""
    if not 0 < first <= second:
        raise ValueError("sizes must satisfy 0 < first <= second")

    def subproof(m: int, start: int, end: int, whole: bool) -> list[Hash]:
        n = end - start
        if m == n:
            return [] if whole else [range_hash(start, end, lookup)]
        k = _split(n)
        if m <= k:
            return [*subproof(m, start, start + k, whole), range_hash(start + k, end, lookup)]
        return [*subproof(m - k, start + k, end, False), range_hash(start, start + k, lookup)]

    return subproof(first, 0, second, True)


def needed(compute: Callable[[Lookup], object]) -> set[tuple[int, int]]:
    """The subtree hashes a computation will look up, found by a dry run, so that a store can
    fetch them all in one query before the real run."""
    keys: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> Hash:
        keys.add((level, index))
        return b"\x00" * 32

    compute(record)
    return keys


def verify_inclusion(index: int, size: int, leaf: Hash, proof: list[Hash], expected: Hash) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected


def verify_consistency(
    first: int, second: int, first_root: Hash, second_root: Hash, proof: list[Hash]
) -> bool:
    """RFC 9162 §2.1.4.2."""
    if first == second:
        return not proof and first_root == second_root
    if not 0 < first < second or not proof:
        return False
    if first & (first - 1) == 0:
        proof = [first_root, *proof]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


class StreamingRoot:
    """Root of a log read leaf by leaf, in O(log n) memory: how a verifier rebuilds a tree of
    ten million leaves. ``root()`` can be read at any size along the way.

    The stack holds one hash per set bit of ``size`` (largest subtree first), so a subtree's
    level is implied by its position and never stored. ``extend`` hashes aligned blocks of
    ``BLOCK`` leaves level by level in list comprehensions, which keeps the interpreter's share
    of the work small next to SHA-256's own.
    """

    BLOCK = 1024  # a power of two

    def __init__(self) -> None:
        self.stack: list[Hash] = []
        self.size = 0

    def _push(self, level: int, subtree: Hash) -> None:
        """Append a complete subtree of 2^level leaves; ``size`` must be a multiple of it."""
        stack, sha = self.stack, hashlib.sha256
        self.size += 1 << level
        carry = self.size >> level
        while not carry & 1:
            subtree = sha(b"\x01" + stack.pop() + subtree).digest()
            carry >>= 1
        stack.append(subtree)

    def add(self, leaf: Hash) -> None:
        self._push(0, leaf)

    def extend(self, leaves: Iterable[Hash]) -> None:
        block, sha = self.BLOCK, hashlib.sha256
        height = block.bit_length() - 1
        items = leaves if isinstance(leaves, list) else list(leaves)
        n, at = len(items), 0
        while at < n and self.size % block:  # up to the next aligned block
            self._push(0, items[at])
            at += 1
        while n - at >= block:
            level = items[at : at + block]
            while len(level) > 1:
                pairs = iter(level)
                level = [
                    sha(b"\x01" + left + right).digest()
                    for left, right in zip(pairs, pairs, strict=False)
                ]
            self._push(height, level[0])
            at += block
        for leaf in items[at:]:
            self._push(0, leaf)

    def root(self) -> Hash:
        if not self.stack:
            return EMPTY_ROOT
        r = self.stack[-1]
        for left in reversed(self.stack[:-1]):
            r = node_hash(left, r)
        return r


def complete_subtrees_after_append(index: int) -> Iterator[tuple[int, int]]:
    """The (level, index) subtrees, level >= 1, completed by appending leaf ``index``."""
    level, position = 1, index + 1
    while position % (1 << level) == 0:
        yield level, position // (1 << level) - 1
        level += 1


class MemoryTree:
    """A whole tree in memory, for tests and the benchmarks' baselines."""

    def __init__(self, leaves: Iterable[Hash] = ()) -> None:
        self.levels: list[list[Hash]] = [[]]
        for leaf in leaves:
            self.append(leaf)

    def append(self, leaf: Hash) -> None:
        self.levels[0].append(leaf)
        index = len(self.levels[0]) - 1
        for level, i in complete_subtrees_after_append(index):
            if len(self.levels) <= level:
                self.levels.append([])
            below = self.levels[level - 1]
            self.levels[level].append(node_hash(below[2 * i], below[2 * i + 1]))

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def lookup(self, level: int, index: int) -> Hash:
        return self.levels[level][index]
