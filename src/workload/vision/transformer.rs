//! Transformer encoders: Vision Transformers (ViT, DeiT) and BERT.
//!
//! * ViT (Dosovitskiy et al. 2021, Table 1) as in torchvision's `vit_b_16`, `vit_b_32`,
//!   `vit_l_16`, and DeiT (Touvron et al. 2021, Table 1) as in timm's `deit_*_patch16_224`:
//!   patch embedding by a strided convolution with bias, a class token concatenated in front
//!   (the concat also performs the NCHW → token layout change), learned position embeddings
//!   added, pre-norm blocks (LayerNorm → multi-head self-attention → residual, LayerNorm → MLP
//!   with GELU → residual), a final LayerNorm over all tokens, and the linear head on the class
//!   token.
//! * BERT (Devlin et al. 2019) as in Hugging Face's `BertModel`: word, position and token-type
//!   embeddings summed and normalised, post-norm blocks (attention → dense → residual →
//!   LayerNorm, then dense → GELU → dense → residual → LayerNorm), and the pooler (first token →
//!   dense → tanh). Outputs are the last hidden state and the pooled vector; no task head.
//!
//! Attention is bidirectional: [`AttnShape`] with `causal: false`, the three parts (QKᵀ,
//! scale + mask + softmax, PV) as separate ops as in the LLM builder; q, k and v are three linear
//! layers (torchvision and timm fuse them into one in-projection, with the same weights and
//! MACs). The GELU is counted with the tanh form's FLOPs ([`EltOp::Gelu`]) although these models
//! use the erf form. Dropout is the identity at inference.

use super::net::{ConvSpec, Net, NetResult};
use crate::workload::dtype::{DType, Storage};
use crate::workload::graph::{AttnPart, AttnShape, EltOp, MoveKind, OpKind, Role, TensorId};

/// Shape of a transformer encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncoderShape {
    /// Width.
    pub dim: u64,
    /// Blocks.
    pub layers: u64,
    /// Attention heads.
    pub heads: u64,
    /// MLP width.
    pub ffn: u64,
}

/// ViT-B: 768 wide, 12 blocks, 12 heads, MLP 3072 (ViT paper, Table 1).
pub const VIT_B: EncoderShape = EncoderShape {
    dim: 768,
    layers: 12,
    heads: 12,
    ffn: 3072,
};
/// ViT-L: 1024 wide, 24 blocks, 16 heads, MLP 4096 (ViT paper, Table 1).
pub const VIT_L: EncoderShape = EncoderShape {
    dim: 1024,
    layers: 24,
    heads: 16,
    ffn: 4096,
};
/// DeiT-Ti: 192 wide, 12 blocks, 3 heads, MLP 768 (DeiT paper, Table 1).
pub const DEIT_TINY: EncoderShape = EncoderShape {
    dim: 192,
    layers: 12,
    heads: 3,
    ffn: 768,
};
/// DeiT-S: 384 wide, 12 blocks, 6 heads, MLP 1536 (DeiT paper, Table 1).
pub const DEIT_SMALL: EncoderShape = EncoderShape {
    dim: 384,
    layers: 12,
    heads: 6,
    ffn: 1536,
};
/// BERT-base: L=12, H=768, A=12, FFN 3072 (BERT paper, §3).
pub const BERT_BASE: EncoderShape = VIT_B;
/// BERT-large: L=24, H=1024, A=16, FFN 4096 (BERT paper, §3).
pub const BERT_LARGE: EncoderShape = VIT_L;

/// BERT's WordPiece vocabulary (`bert-base-uncased` `vocab_size`).
pub const BERT_VOCAB: u64 = 30_522;
/// BERT's learned positions (`max_position_embeddings`).
pub const BERT_MAX_POSITIONS: u64 = 512;
/// BERT's segment (token-type) vocabulary (`type_vocab_size`).
pub const BERT_TYPE_VOCAB: u64 = 2;

/// Multi-head self-attention over `batch` sequences of `seq` tokens: q, k, v projections,
/// QKᵀ, softmax (reading `mask` if given), PV, output projection. Returns the projection output.
fn self_attention(
    net: &mut Net,
    p: &str,
    x: TensorId,
    e: EncoderShape,
    batch: u64,
    seq: u64,
    mask: Option<TensorId>,
) -> TensorId {
    let rows = batch * seq;
    let d = e.dim;
    let q = net.linear(&format!("{p}.q_proj"), x, rows, d, d, true);
    let k = net.linear(&format!("{p}.k_proj"), x, rows, d, d, true);
    let v = net.linear(&format!("{p}.v_proj"), x, rows, d, d, true);
    let shape = AttnShape {
        batch,
        q_heads: e.heads,
        kv_heads: e.heads,
        q_len: seq,
        kv_len: seq,
        head_dim: d / e.heads,
        causal: false,
        window: None,
    };
    let score_elems = batch * e.heads * seq * seq;
    let float = Storage::plain(net.q.float);
    let scores = net.g.add_tensor(
        format!("{p}.scores"),
        &[score_elems],
        float,
        Role::Activation,
    );
    let probs = net.g.add_tensor(
        format!("{p}.probs"),
        &[score_elems],
        float,
        Role::Activation,
    );
    let ctx = net.tensor(format!("{p}.context"), &[rows, d]);
    let mut soft_in = vec![scores];
    soft_in.extend(mask);
    for (part, ins, out, nm) in [
        (AttnPart::Scores, vec![q, k], scores, "qk"),
        (AttnPart::Softmax, soft_in, probs, "softmax"),
        (AttnPart::Values, vec![probs, v], ctx, "av"),
    ] {
        net.g.add_op(
            format!("{p}.{nm}"),
            OpKind::Attention { part, shape },
            &ins,
            &[out],
            net.q.float,
            net.layer,
        );
    }
    net.linear(&format!("{p}.out_proj"), ctx, rows, d, d, true)
}

fn mlp(net: &mut Net, p: &str, x: TensorId, e: EncoderShape, rows: u64) -> TensorId {
    let h = net.linear(&format!("{p}.fc1"), x, rows, e.dim, e.ffn, true);
    let h = net.eltwise(&format!("{p}.gelu"), EltOp::Gelu, &[h], &[rows, e.ffn]);
    net.linear(&format!("{p}.fc2"), h, rows, e.ffn, e.dim, true)
}

/// A Vision Transformer with `patch × patch` patches on a `res × res` image.
pub fn vit(
    net: &mut Net,
    e: EncoderShape,
    patch: u64,
    res: u64,
    classes: u64,
) -> NetResult<Vec<TensorId>> {
    let n = net.n;
    let d = e.dim;
    let img = net.image(3, res, res);
    net.layer = None;
    let patches = net.conv(
        "conv_proj",
        img,
        ConvSpec::new(d, patch).s(patch).pad(0, 0).plain(),
    )?;
    let seq = patches.h * patches.w + 1;
    let rows = n * seq;
    let cls = net.float_weight("class_token".into(), &[1, d]);
    let tokens = net.tensor("tokens.out".into(), &[rows, d]);
    net.g.add_op(
        "tokens",
        OpKind::DataMove {
            kind: MoveKind::Concat,
            elems: rows * d,
        },
        &[cls, patches.t],
        &[tokens],
        net.q.float,
        None,
    );
    let pos = net.float_weight("pos_embedding".into(), &[seq, d]);
    let mut x = net.eltwise("pos_add", EltOp::Add, &[tokens, pos], &[rows, d]);
    for l in 0..e.layers {
        net.layer = Some(l as u32);
        let p = format!("encoder.layers.{l}");
        let h = net.layer_norm(&format!("{p}.ln_1"), x, rows, d);
        let a = self_attention(net, &format!("{p}.self_attention"), h, e, n, seq, None);
        let x2 = net.eltwise(&format!("{p}.add_1"), EltOp::Add, &[x, a], &[rows, d]);
        let h = net.layer_norm(&format!("{p}.ln_2"), x2, rows, d);
        let m = mlp(net, &format!("{p}.mlp"), h, e, rows);
        x = net.eltwise(&format!("{p}.add_2"), EltOp::Add, &[x2, m], &[rows, d]);
    }
    net.layer = None;
    let x = net.layer_norm("encoder.ln", x, rows, d);
    let c = net.tensor("class_token_out.out".into(), &[n, d]);
    net.g.add_op(
        "class_token_out",
        OpKind::SelectRows { rows: n, cols: d },
        &[x],
        &[c],
        net.q.float,
        None,
    );
    Ok(vec![net.linear("heads.head", c, n, d, classes, true)])
}

/// BERT over `seq` tokens per sequence.
pub fn bert(net: &mut Net, e: EncoderShape, seq: u64) -> NetResult<Vec<TensorId>> {
    let n = net.n;
    let d = e.dim;
    let rows = n * seq;
    let ids = |net: &mut Net, name: &str, shape: &[u64]| {
        net.g
            .add_tensor(name, shape, Storage::plain(DType::I32), Role::Input)
    };
    let input_ids = ids(net, "input_ids", &[n, seq]);
    let type_ids = ids(net, "token_type_ids", &[n, seq]);
    let pos_ids = ids(net, "position_ids", &[1, seq]);
    let mask = ids(net, "attention_mask", &[n, seq]);
    let embed = net.q.embed;
    let gather = |net: &mut Net, name: &str, idx: TensorId, vocab: u64, tokens: u64| {
        let table = net
            .g
            .add_tensor(format!("{name}.weight"), &[vocab, d], embed, Role::Weight);
        let y = net.tensor(format!("{name}.out"), &[tokens, d]);
        net.g.add_op(
            name,
            OpKind::Embedding { tokens, dim: d },
            &[idx, table],
            &[y],
            net.q.float,
            None,
        );
        y
    };
    let w = gather(
        net,
        "embeddings.word_embeddings",
        input_ids,
        BERT_VOCAB,
        rows,
    );
    let t = gather(
        net,
        "embeddings.token_type_embeddings",
        type_ids,
        BERT_TYPE_VOCAB,
        rows,
    );
    let p = gather(
        net,
        "embeddings.position_embeddings",
        pos_ids,
        BERT_MAX_POSITIONS,
        seq,
    );
    let x = net.eltwise("embeddings.add_type", EltOp::Add, &[w, t], &[rows, d]);
    let x = net.eltwise("embeddings.add_position", EltOp::Add, &[x, p], &[rows, d]);
    let mut x = net.layer_norm("embeddings.LayerNorm", x, rows, d);
    for l in 0..e.layers {
        net.layer = Some(l as u32);
        let p = format!("encoder.layer.{l}");
        let a = self_attention(net, &format!("{p}.attention"), x, e, n, seq, Some(mask));
        let x2 = net.eltwise(
            &format!("{p}.attention.add"),
            EltOp::Add,
            &[x, a],
            &[rows, d],
        );
        let x2 = net.layer_norm(&format!("{p}.attention.LayerNorm"), x2, rows, d);
        let m = mlp(net, &format!("{p}.mlp"), x2, e, rows);
        let x3 = net.eltwise(&format!("{p}.output.add"), EltOp::Add, &[x2, m], &[rows, d]);
        x = net.layer_norm(&format!("{p}.output.LayerNorm"), x3, rows, d);
    }
    net.layer = None;
    let first = net.tensor("pooler.first_token.out".into(), &[n, d]);
    net.g.add_op(
        "pooler.first_token",
        OpKind::SelectRows { rows: n, cols: d },
        &[x],
        &[first],
        net.q.float,
        None,
    );
    let pooled = net.linear("pooler.dense", first, n, d, d, true);
    let pooled = net.eltwise("pooler.tanh", EltOp::Unary, &[pooled], &[n, d]);
    Ok(vec![x, pooled])
}
