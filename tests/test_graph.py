"""minidl.report.graph: DOT export of autograd graphs, checked with a real DOT parser (pydot; those tests
skip without it) and by rendering with Graphviz ``dot`` when it is installed."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import minidl
from minidl import ops
from minidl.report import GraphvizNotFoundError, graph, render, to_dot, write_dot

# pydot's parser calls pyparsing names that newer pyparsing deprecates: not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")
requires_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")


def parsed(src: str):
    """(nodes by name, edges) of DOT source, read by pydot's parser (the test skips without pydot)."""
    graphs = pytest.importorskip("pydot").graph_from_dot_data(src)
    assert graphs is not None and len(graphs) == 1, "DOT source did not parse"
    g = graphs[0]
    nodes = {n.get_name(): n for n in g.get_nodes() if n.get_name() not in ("node", "edge", "graph")}
    edges = [(e.get_source(), e.get_destination()) for e in g.get_edges()]
    return nodes, edges


def label(node) -> str:
    """A node's label as text (DOT quoting and escapes undone)."""
    raw = node.get_attributes()["label"]
    assert raw[0] == raw[-1] == '"'
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), raw[1:-1])


def ops_of(nodes) -> list[str]:
    return sorted(label(n) for name, n in nodes.items() if name.startswith("op"))


def leaf(*shape, value=1.0):
    return minidl.tensor(np.full(shape, value), requires_grad=True)


class TestStructure:
    def test_counts_for_a_small_expression(self):
        a, b, c = leaf(2, 3), leaf(2, 3, value=2.0), leaf(3)
        out = ((a * b) + c).sum()
        nodes, edges = parsed(to_dot(out))
        tensors = [n for n in nodes if n.startswith("t")]
        # tensors: a, b, c, a*b, (a*b)+c, sum; ops: mul, add, sum
        assert len(tensors) == 6 and ops_of(nodes) == ["add", "mul", "sum"]
        # a->mul, b->mul, mul->ab, ab->add, c->add, add->abc, abc->sum, sum->out
        assert len(edges) == 8 and len(set(edges)) == 8
        # every edge joins a tensor and an op (the graph is bipartite), ops have one output each
        assert all(s[0] != d[0] for s, d in edges)
        assert sorted(s for s, _ in edges if s.startswith("op")) == sorted(n for n in nodes if n.startswith("op"))
        roots = [n for n, node in nodes.items() if node.get_attributes().get("peripheries") == "2"]
        assert roots == ["t0"] and not any(d == "t0" for d, _ in edges)

    def test_reused_tensor_is_one_node_with_two_edges(self):
        a = leaf(3)
        nodes, edges = parsed(to_dot((a * a).sum()))
        assert len([n for n in nodes if n.startswith("t")]) == 3
        a_id = next(n for n, node in nodes.items() if n.startswith("t") and "fillcolor" in node.get_attributes()
                    and label(node).startswith("(3,)") and not any(d == n for _, d in edges))
        assert edges.count((a_id, "op1")) == 2
        assert len(edges) == 5

    def test_shared_intermediate_is_expanded_once(self):
        a = leaf(2)
        h = a.exp()
        out = (h * h + h).sum()  # a diamond: h feeds two ops, one of them twice
        nodes, edges = parsed(to_dot(out))
        assert ops_of(nodes) == ["add", "exp", "mul", "sum"]
        # a, h, h*h, h*h+h, out; edges: a->exp->h, h->mul (x2)->hh, hh->add, h->add->s, s->sum->out
        assert len([n for n in nodes if n.startswith("t")]) == 5 and len(edges) == 10

    def test_edges_carry_input_positions(self):
        a, b = leaf(2), leaf(2)
        out = (b - a).sum()
        g = pytest.importorskip("pydot").graph_from_dot_data(to_dot(out, names={id(a): "a", id(b): "b"}))[0]
        name_of = {n.get_name(): label(n).split("\n")[0] for n in g.get_nodes() if "label" in n.get_attributes()}
        pos = {name_of[e.get_source()]: e.get_attributes().get("label") for e in g.get_edges()
               if e.get_destination().startswith("op") and name_of.get(e.get_source()) in ("a", "b")}
        assert pos == {"b": '"0"', "a": '"1"'}  # b - a: b is input 0 of sub
        sum_edges = [e for e in g.get_edges() if e.get_destination() == "op0"]
        assert len(sum_edges) == 1 and "label" not in sum_edges[0].get_attributes()  # one input: no position

    def test_constants_shown_or_hidden(self):
        a = leaf(2)
        out = (a * 2.0).sum()
        nodes, edges = parsed(to_dot(out))
        assert len(nodes) == 4 + 2 and len(edges) == 5
        const = [n for n in nodes.values() if "dashed" in n.get_attributes().get("style", "")]
        assert len(const) == 1 and label(const[0]).startswith("scalar float64")
        nodes, edges = parsed(to_dot(out, show_constants=False))
        assert len(nodes) == 3 + 2 and len(edges) == 4

    def test_parameters_names_and_missing_bias(self):
        x = minidl.tensor(np.ones((4, 3)))  # data: needs no grad
        w, b = leaf(2, 3), leaf(2)
        w2 = leaf(1, 2)
        h = ops.linear(x, w, b).relu()
        out = ops.linear(h, w2, None).sum()  # an absent bias is None among the inputs
        nodes, edges = parsed(to_dot(out, params={"fc1.weight": w, "fc1.bias": b, "fc2.weight": w2},
                                     names={id(h): "hidden"}))
        by_label = {label(n).split("\n")[0]: n for n in nodes.values()}
        for name in ("fc1.weight", "fc1.bias", "fc2.weight"):
            attrs = by_label[name].get_attributes()
            assert attrs["shape"] == "box" and "rounded" in attrs["style"]
        assert "hidden" in by_label
        assert ops_of(nodes) == ["linear", "linear", "relu", "sum"]
        # x (constant), w, b -> linear -> t -> relu -> h -> linear(h, w2) -> t -> sum -> out
        assert len([n for n in nodes if n.startswith("t")]) == 8 and len(edges) == 11

    def test_leaf_root_and_errors(self):
        nodes, edges = parsed(to_dot(leaf(2)))
        assert len(nodes) == 1 and edges == []
        with pytest.raises(TypeError, match="to_dot: expected a minidl Tensor, got ndarray"):
            to_dot(np.ones(2))
        with pytest.raises(ValueError, match="rankdir"):
            to_dot(leaf(2), rankdir="UP")

    def test_deep_graph_is_walked_iteratively(self):
        import sys

        depth = max(5000, 2 * sys.getrecursionlimit())
        x = leaf(1)
        y = x
        for _ in range(depth):
            y = -y
        src = to_dot(y)
        assert len(re.findall(r"^  op\d+ \[", src, flags=re.M)) == depth
        assert len(re.findall(r"->", src)) == 2 * depth


class TestLabels:
    def test_values_grads_and_truncation(self):
        a = minidl.tensor(np.arange(10.0), requires_grad=True)
        out = (a * a).sum()
        out.backward()
        nodes, _ = parsed(to_dot(out, show_values=True, show_grads=True, max_elems=3, names={id(a): "a"}))
        a_label = next(label(n) for n in nodes.values() if label(n).startswith("a\n"))
        assert a_label.split("\n") == ["a", "(10,) float64", "data: [0., 1., 2., ...]", "grad: [0., 2., 4., ...]"]
        # intermediates keep no gradient, so they show none; the root shows its value
        root = nodes["t0"]
        assert label(root) == "scalar float64\ndata: 285."

    def test_awkward_names_are_escaped(self):
        a = leaf(2)
        weird = 'say "hi" \\ {x} <b> | -> ; \\n\nnext line'
        src = to_dot((a + 1.0).sum(), names={id(a): weird})
        nodes, _ = parsed(src)
        assert len(nodes) == 6
        assert any(label(n).startswith(weird) for n in nodes.values())


class TestFiles:
    def test_write_dot(self, tmp_path):
        a = leaf(2)
        out = (a * 3.0).sum()
        p = write_dot(out, tmp_path / "g.dot", show_values=True)
        assert p == tmp_path / "g.dot" and p.read_text(encoding="utf-8") == to_dot(out, show_values=True)
        assert write_dot("digraph g { a -> b; }", tmp_path / "s.dot").read_text() == "digraph g { a -> b; }"
        with pytest.raises(TypeError, match="need a Tensor source"):
            write_dot("digraph g {}", tmp_path / "x.dot", show_values=True)

    def test_render_without_graphviz(self, monkeypatch, tmp_path):
        monkeypatch.setattr(graph.shutil, "which", lambda name: None)
        with pytest.raises(GraphvizNotFoundError, match="Graphviz 'dot' program was not found.*write_dot"):
            render("digraph g {}", tmp_path / "g.svg")
        assert list(tmp_path.iterdir()) == []
        with pytest.raises(ValueError, match="format must be one of"):
            render("digraph g {}", tmp_path / "g.jpg", format="jpg")

    @requires_dot
    def test_render_svg_and_png(self, tmp_path):
        a = leaf(2)
        weird = 'w"e\\ird <&>'
        src = to_dot(((a * 2.0) + a).sum(), names={id(a): weird}, show_values=True)
        svg = render(src, tmp_path / "g.svg")
        root = ET.parse(svg).getroot()
        assert root.tag.endswith("svg")
        texts = [t.text for t in root.iter() if t.tag.endswith("text")]
        assert weird in texts  # the escaped label came out as the original text
        assert sum(t in ("mul", "add", "sum") for t in texts) == 3
        png = render(src, tmp_path / "g.png", format="png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert render(a * 2.0, tmp_path / "t.svg").stat().st_size > 0  # a tensor directly
        assert not list(tmp_path.glob("*.tmp"))

    @requires_dot
    def test_render_reports_dot_errors(self, tmp_path):
        with pytest.raises(RuntimeError, match="dot exited with status"):
            render("digraph { this is not dot", tmp_path / "bad.svg")
        assert not (tmp_path / "bad.svg").exists() and not list(tmp_path.glob("*.tmp"))
