"""merkle.py against RFC 6962's published reference vectors, and proofs by Hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custodia.ledger import merkle
from custodia.ledger.merkle import MemoryTree, StreamingRoot

# The reference tree of certificate-transparency's merkle_tree_test (RFC 6962 test vectors).
LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CONSISTENCY = {
    (1, 8): INCLUSION[(0, 8)],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


def reference_tree() -> MemoryTree:
    return MemoryTree(merkle.leaf_hash(bytes.fromhex(leaf)) for leaf in LEAVES)


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    assert merkle.root(0, reference_tree().lookup).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_reference_roots(size: int) -> None:
    tree = reference_tree()
    assert merkle.root(size, tree.lookup).hex() == ROOTS[size - 1]
    streaming = StreamingRoot()
    streaming.extend(tree.levels[0][:size])
    assert streaming.root().hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size"), sorted(INCLUSION))
def test_reference_inclusion_proofs(index: int, size: int) -> None:
    tree = reference_tree()
    proof = merkle.inclusion_proof(index, size, tree.lookup)
    assert [p.hex() for p in proof] == INCLUSION[(index, size)]
    assert merkle.verify_inclusion(
        index, size, tree.levels[0][index], proof, bytes.fromhex(ROOTS[size - 1])
    )


@pytest.mark.parametrize(("first", "second"), sorted(CONSISTENCY))
def test_reference_consistency_proofs(first: int, second: int) -> None:
    tree = reference_tree()
    proof = merkle.consistency_proof(first, second, tree.lookup)
    assert [p.hex() for p in proof] == CONSISTENCY[(first, second)]
    assert merkle.verify_consistency(
        first, second, bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1]), proof
    )


def tree_of(size: int) -> MemoryTree:
    return MemoryTree(merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size))


@settings(max_examples=200)
@given(st.integers(1, 300), st.data())
def test_every_inclusion_proof_verifies_and_tampering_fails(size: int, data: st.DataObject) -> None:
    tree = tree_of(size)
    index = data.draw(st.integers(0, size - 1))
    top = merkle.root(size, tree.lookup)
    leaf = tree.levels[0][index]
    proof = merkle.inclusion_proof(index, size, tree.lookup)
    assert len(proof) <= size.bit_length()
    assert merkle.verify_inclusion(index, size, leaf, proof, top)
    assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(b"otro"), proof, top)
    if size > 1:
        assert not merkle.verify_inclusion((index + 1) % size, size, leaf, proof, top)
    # A wrong size is caught whenever it changes the shape of the path (RFC 9162 checks that the
    # path ends exactly at the root); sizes with the same shape describe the same computation.
    wrong = data.draw(st.integers(index + 1, 2 * size + 2).filter(lambda n: n != size))
    if len(merkle.inclusion_proof(index, wrong, tree_of(wrong).lookup)) != len(proof):
        assert not merkle.verify_inclusion(index, wrong, leaf, proof, top)
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        bad = list(proof)
        bad[position] = merkle.node_hash(bad[position], b"x")
        assert not merkle.verify_inclusion(index, size, leaf, bad, top)
        assert not merkle.verify_inclusion(index, size, leaf, proof[:-1], top)
    assert not merkle.verify_inclusion(index, size, leaf, [*proof, top], top)


@settings(max_examples=200)
@given(st.integers(1, 300), st.data())
def test_every_consistency_proof_verifies_and_tampering_fails(
    second: int, data: st.DataObject
) -> None:
    tree = tree_of(second)
    first = data.draw(st.integers(1, second))
    r1, r2 = merkle.root(first, tree.lookup), merkle.root(second, tree.lookup)
    proof = merkle.consistency_proof(first, second, tree.lookup)
    assert merkle.verify_consistency(first, second, r1, r2, proof)
    if first < second:
        assert not merkle.verify_consistency(first, second, merkle.leaf_hash(b"x"), r2, proof)
        assert not merkle.verify_consistency(first, second, r1, merkle.leaf_hash(b"x"), proof)
        position = data.draw(st.integers(0, len(proof) - 1))
        bad = list(proof)
        bad[position] = merkle.node_hash(bad[position], b"x")
        assert not merkle.verify_consistency(first, second, r1, r2, bad)
        if first + 1 < second:
            other = merkle.root(first + 1, tree.lookup)
            assert not merkle.verify_consistency(first + 1, second, other, r2, proof)


@given(st.integers(0, 2000))
def test_streaming_root_equals_the_stored_tree_root(size: int) -> None:
    tree = tree_of(size)
    streaming = StreamingRoot()
    streaming.extend(tree.levels[0])
    assert streaming.root() == merkle.root(size, tree.lookup)


class SmallBlocks(StreamingRoot):
    BLOCK = 4  # so that small trees exercise the block path, its alignment and its remainders


@given(st.integers(0, 300), st.lists(st.integers(0, 40), max_size=20), st.booleans())
def test_streaming_root_in_any_chunks_gives_every_prefix_root(
    size: int, cuts: list[int], small: bool
) -> None:
    """However the leaves arrive (one by one, in pages, in blocks out of alignment), the root at
    every size read along the way is the tree's root at that size."""
    tree = tree_of(size)
    leaves = tree.levels[0]
    streaming = SmallBlocks() if small else StreamingRoot()
    at = 0
    for cut in cuts:
        if cut == 1 and at < size:
            streaming.add(leaves[at])
            at += 1
        else:
            streaming.extend(iter(leaves[at : at + cut]) if cut % 2 else leaves[at : at + cut])
            at = min(at + cut, size)
        assert streaming.size == at
        assert streaming.root() == merkle.root(at, tree.lookup)
    streaming.extend(leaves[at:])
    assert streaming.size == size
    assert streaming.root() == merkle.root(size, tree.lookup)


def test_a_proof_reads_only_log_n_stored_hashes() -> None:
    keys = merkle.needed(lambda look: merkle.inclusion_proof(777_777, 1_000_003, look))
    assert len(keys) <= 2 * (1_000_003).bit_length()
