"""Chunk-by-chunk generation through the sink + rolling KV cache equals one block-causal pass,
and the cache's memory, key length and RoPE positions stop growing once the window is full."""
import pytest
import torch

from motionworld.model.attention import BlockCausal, BlockCausalAttention
from motionworld.model.config import DiTConfig
from motionworld.model.transformer import CausalWanTransformer

CFG = DiTConfig(num_attention_heads=2, attention_head_dim=16, text_dim=8, freq_dim=16, ffn_dim=32, num_layers=2,
                track_channels=3)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return CausalWanTransformer(CFG).eval()


@pytest.mark.parametrize("chunk,sink,window,chunks", [(3, 1, 1, 5), (1, 1, 1, 6), (2, 0, 1, 5), (2, 2, 2, 7),
                                                      (3, 1, None, 4), (1, 0, 3, 6), (2, 1, 0, 4)])
def test_cached_chunks_equal_block_causal_pass(model, chunk, sink, window, chunks):
    g = torch.Generator().manual_seed(chunk * 10 + sink)
    f, h, w = chunk * chunks, 4, 6
    x = torch.randn(1, 16, f, h, w, generator=g)
    cond = torch.randn(1, 3, f, h, w, generator=g)
    t = torch.rand(1, f, generator=g) * 1000
    text = torch.randn(1, 5, 8, generator=g)
    layout = BlockCausal(chunk, sink, window)
    with torch.no_grad():
        whole = model(x, t, text, condition=cond, attention=layout)
        cache = model.new_cache(layout, 1, h, w)
        kv = model.text_kv(text)
        parts = []
        for i in range(chunks):
            s = slice(i * chunk, (i + 1) * chunk)
            # a noisy pass that is later overwritten must not leak into other chunks
            model.forward_chunk(torch.randn(1, 16, chunk, h, w, generator=g), t[:, s] * 0 + 700, kv, cache,
                                condition=cond[:, :, s])
            parts.append(model.forward_chunk(x[:, :, s], t[:, s], kv, cache, condition=cond[:, :, s]))
            model.forward_chunk(x[:, :, s], t[:, s], kv, cache, condition=cond[:, :, s], write_only=True)
            cache.roll()
    torch.testing.assert_close(torch.cat(parts, 2), whole, rtol=1e-4, atol=1e-5)


def test_block_causal_mask_shape():
    att = BlockCausalAttention(CausalWanTransformer(CFG).rope, 6, 1, 1, BlockCausal(1, 1, 2))
    allowed = att.dense_mask().int().tolist()
    assert allowed[5] == [1, 0, 0, 1, 1, 1]  # sink, two window chunks, itself
    assert allowed[2] == [1, 1, 1, 0, 0, 0]
    assert allowed[0] == [1, 0, 0, 0, 0, 0]


def test_one_chunk_block_causal_is_full_attention(model):
    x, text = torch.randn(1, 16, 3, 4, 4), torch.randn(1, 2, 8)
    with torch.no_grad():
        torch.testing.assert_close(model(x, 10.0, text, attention=BlockCausal(3, 1, 1)), model(x, 10.0, text))


@pytest.mark.parametrize("sink,window", [(1, 1), (0, 1), (2, 3)])
def test_memory_and_positions_stay_constant_over_200_chunks(model, sink, window):
    layout = BlockCausal(3, sink, window)
    cache = model.new_cache(layout, 1, 4, 4)
    kv = model.text_kv(torch.randn(1, 2, 8))
    storages = None
    key_lengths, positions = [], []
    with torch.no_grad():
        for i in range(200):
            x = torch.randn(1, 16, 3, 4, 4)
            for sigma in (1000.0, 500.0):
                model.forward_chunk(x, sigma, kv, cache)
                key_lengths.append(cache.key_length())
                positions.append(cache.max_position())
            model.forward_chunk(x, 0.0, kv, cache, write_only=True)
            cache.roll()
            if i == sink + window + 1:
                storages = [(t.untyped_storage().data_ptr(), t.untyped_storage().nbytes()) for t in cache.storage()]
                tables = len(model.rope._memo)
    assert [(t.untyped_storage().data_ptr(), t.untyped_storage().nbytes()) for t in cache.storage()] == storages
    steady = key_lengths[2 * (sink + window):]
    assert len(set(steady)) == 1 and steady[0] == (sink + window + 1) * 3 * 2 * 2
    assert max(positions) == (sink + window + 1) * 3 - 1
    assert len(model.rope._memo) == tables  # RoPE tables are reused, not rebuilt per chunk


def test_grow_mode_keeps_absolute_positions(model):
    cache = model.new_cache(BlockCausal(1, 0, None), 1, 2, 2)
    kv = model.text_kv(torch.randn(1, 2, 8))
    with torch.no_grad():
        for _ in range(20):
            model.forward_chunk(torch.randn(1, 16, 1, 2, 2), 0.0, kv, cache)
            cache.roll()
    assert cache.max_position() == 20 and cache.key_length() == 21


def test_cached_chunks_equal_block_causal_pass_with_warp_channels():
    """Track and warp condition channels together (image | tracks | warp after the latent)."""
    torch.manual_seed(1)
    cfg = DiTConfig(num_attention_heads=2, attention_head_dim=16, text_dim=8, freq_dim=16, ffn_dim=32, num_layers=2,
                    track_channels=3, warp_channels=4)
    model = CausalWanTransformer(cfg).eval()
    g = torch.Generator().manual_seed(7)
    chunk, chunks, h, w = 3, 4, 4, 6
    f = chunk * chunks
    x, cond = torch.randn(1, 16, f, h, w, generator=g), torch.randn(1, 7, f, h, w, generator=g)
    t, text = torch.rand(1, f, generator=g) * 1000, torch.randn(1, 5, 8, generator=g)
    layout = BlockCausal(chunk, 1, 1)
    with torch.no_grad():
        whole = model(x, t, text, condition=cond, attention=layout)
        cache, kv, parts = model.new_cache(layout, 1, h, w), model.text_kv(text), []
        for i in range(chunks):
            s = slice(i * chunk, (i + 1) * chunk)
            parts.append(model.forward_chunk(x[:, :, s], t[:, s], kv, cache, condition=cond[:, :, s]))
            model.forward_chunk(x[:, :, s], t[:, s], kv, cache, condition=cond[:, :, s], write_only=True)
            cache.roll()
    torch.testing.assert_close(torch.cat(parts, 2), whole, rtol=1e-4, atol=1e-5)
