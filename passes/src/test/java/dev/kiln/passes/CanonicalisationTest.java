package dev.kiln.passes;

import dev.kiln.ir.Graph;
import dev.kiln.ir.HostTensor;
import dev.kiln.ir.IrParser;
import org.junit.jupiter.api.Test;

import static dev.kiln.passes.CheckedRewrite.parse;
import static dev.kiln.passes.CheckedRewrite.run;
import static org.junit.jupiter.api.Assertions.*;

/** Constant folding, CSE, DCE and reshape/transpose simplification, each as a few lines of IR before and after. */
class CanonicalisationTest {
    @Test
    void constantFoldingEvaluatesConstantOnlySubgraphs() {
        Graph g = parse("""
                graph @fold(%x: f32[2,3]) {
                  const %w: f32[3,4]
                  %wt: f32[4,3] = transpose(%w) {perm=[1,0]}
                  %half: f32[4,3] = scale(%wt) {factor=0.5}
                  %y: f32[2,4] = linear(%x, %half)
                  return %y
                }
                """);
        Graph after = run(g, "constant-folding", "dce").graph();
        assertEquals("""
                graph @fold(%x: f32[2,3]) {
                  const %half: f32[4,3]
                  %y: f32[2,4] = linear(%x, %half)
                  return %y
                }
                """, after.toString());
        HostTensor w = g.weight("w"), half = after.weight("half");
        assertEquals(0.5f * w.get(2, 1), half.get(1, 2), "half[1][2] = w[2][1] / 2");
    }

    @Test
    void constantFoldingFoldsAnOutputInPlace() {
        Graph after = run("""
                graph @all_constant(%x: f32[2]) {
                  const %a: f32[2]
                  const %b: f32[2]
                  %s: f32[2] = binary(%a, %b) {kind=add}
                  %y: f32[2] = binary(%x, %s) {kind=mul}
                  return %y, %s
                }
                """, "constant-folding", "dce").graph();
        assertEquals(java.util.List.of("y", "s"), after.outputs(), "the folded output keeps its name");
        assertTrue(after.isConstant("s"));
    }

    @Test
    void constantFoldingLeavesUnboundConstantsAlone() {
        // parsed IR before weights are bound: nothing to evaluate yet
        Graph g = IrParser.parse("""
                graph @unbound(%x: f32[3]) {
                  const %c: f32[3]
                  %n: f32[3] = unary(%c) {act=tanh}
                  %y: f32[3] = binary(%x, %n) {kind=add}
                  return %y
                }
                """);
        assertEquals(g.toString(), new ConstantFolding().run(g, new PassContext()).toString());
    }

    @Test
    void cseKeepsTheFirstOfIdenticalNodes() {
        Graph after = run("""
                graph @cse(%x: f32[2,3]) {
                  %a: f32[2,3] = unary(%x) {act=relu}
                  %b: f32[2,3] = unary(%x) {act=relu}
                  %ta: f32[2,3] = unary(%a) {act=tanh}
                  %tb: f32[2,3] = unary(%b) {act=tanh}
                  %y: f32[2,3] = binary(%ta, %tb) {kind=add}
                  return %y
                }
                """, "cse").graph();
        assertEquals("""
                graph @cse(%x: f32[2,3]) {
                  %a: f32[2,3] = unary(%x) {act=relu}
                  %ta: f32[2,3] = unary(%a) {act=tanh}
                  %y: f32[2,3] = binary(%ta, %ta) {kind=add}
                  return %y
                }
                """, after.toString());
    }

    @Test
    void cseKeepsNodesThatDifferInAttributesOrOperandOrder() {
        Graph g = parse("""
                graph @distinct(%x: f32[3], %z: f32[3]) {
                  %a: f32[3] = unary(%x) {act=leaky_relu(0.1)}
                  %b: f32[3] = unary(%x) {act=leaky_relu(0.2)}
                  %c: f32[3] = binary(%a, %b) {kind=sub}
                  %d: f32[3] = binary(%b, %a) {kind=sub}
                  %y: f32[3] = binary(%c, %d) {kind=mul}
                  return %y
                }
                """);
        assertEquals(g.toString(), run(g, "cse").graph().toString());
    }

    @Test
    void dceDropsDeadNodesAndConstantsButKeepsInputs() {
        Graph after = run("""
                graph @dead(%x: f32[3], %unused: f32[2]) {
                  const %c: f32[3]
                  const %k: f32[3]
                  %dead: f32[3] = binary(%x, %c) {kind=mul}
                  %dead2: f32[3] = unary(%dead) {act=exp}
                  %y: f32[3] = binary(%x, %k) {kind=add}
                  return %y
                }
                """, "dce").graph();
        assertEquals("""
                graph @dead(%x: f32[3], %unused: f32[2]) {
                  const %k: f32[3]
                  %y: f32[3] = binary(%x, %k) {kind=add}
                  return %y
                }
                """, after.toString());
    }

    @Test
    void simplifiesReshapesAndTransposes() {
        Graph after = run("""
                graph @views(%x: f32[2,3,4]) {
                  %same: f32[2,3,4] = reshape(%x) {shape=[2,3,4]}
                  %r1: f32[6,4] = reshape(%same) {shape=[6,4]}
                  %r2: f32[4,6] = reshape(%r1) {shape=[4,6]}
                  %t1: f32[6,4] = transpose(%r2) {perm=[1,0]}
                  %t2: f32[4,6] = transpose(%t1) {perm=[1,0]}
                  %y: f32[4,6] = unary(%t2) {act=relu}
                  return %y
                }
                """, "simplify-reshapes", "dce").graph();
        assertEquals("""
                graph @views(%x: f32[2,3,4]) {
                  %y.unreshaped: f32[2,3,4] = unary(%x) {act=relu}
                  %y: f32[4,6] = reshape(%y.unreshaped) {shape=[4,6]}
                  return %y
                }
                """, after.toString(), "the reshapes compose and the transposes cancel; the element-wise op moves above the reshape");
    }

    @Test
    void composesTransposes() {
        Graph after = run("""
                graph @perms(%x: f32[2,3,5]) {
                  %a: f32[3,5,2] = transpose(%x) {perm=[1,2,0]}
                  %b: f32[5,3,2] = transpose(%a) {perm=[1,0,2]}
                  %id: f32[5,3,2] = transpose(%b) {perm=[0,1,2]}
                  %y: f32[5,3,2] = unary(%id) {act=sigmoid}
                  return %y
                }
                """, "simplify-reshapes", "dce").graph();
        assertEquals("""
                graph @perms(%x: f32[2,3,5]) {
                  %b: f32[5,3,2] = transpose(%x) {perm=[2,1,0]}
                  %y: f32[5,3,2] = unary(%b) {act=sigmoid}
                  return %y
                }
                """, after.toString());
    }

    @Test
    void movesBatchNormAndActivationsAboveTheReshapesOfAOneDimensionalConv() {
        // Conv1d as traced: a 2-D conv between reshapes; its batch norm and ReLU must end up next to the conv
        Graph after = run("""
                graph @conv1d(%x: f32[1,2,1,9]) {
                  const %w: f32[4,2,1,3]
                  const %b: f32[4]
                  const %g: f32[4]
                  const %beta: f32[4]
                  const %m: f32[4]
                  const %v: f32[4]
                  %c: f32[1,4,1,7] = conv2d(%x, %w, %b) {stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1}
                  %c3: f32[1,4,7] = reshape(%c) {shape=[1,4,7]}
                  %bn: f32[1,4,7] = batch_norm2d(%c3, %g, %beta, %m, %v) {eps=1.0E-5}
                  %r: f32[1,4,7] = unary(%bn) {act=relu}
                  %r4: f32[1,4,1,7] = reshape(%r) {shape=[1,4,1,7]}
                  %y: f32[1,4,1,7] = scale(%r4) {factor=2.0}
                  %flat: f32[1,28] = reshape(%c) {shape=[1,28]}
                  %z: f32[1,28] = unary(%flat) {act=tanh}
                  return %y, %z
                }
                """, "simplify-reshapes").graph();
        assertEquals("""
                graph @conv1d(%x: f32[1,2,1,9]) {
                  const %w: f32[4,2,1,3]
                  const %b: f32[4]
                  const %g: f32[4]
                  const %beta: f32[4]
                  const %m: f32[4]
                  const %v: f32[4]
                  %c: f32[1,4,1,7] = conv2d(%x, %w, %b) {stride=[1,1], padding=[0,0,0,0], dilation=[1,1], groups=1}
                  %bn.unreshaped: f32[1,4,1,7] = batch_norm2d(%c, %g, %beta, %m, %v) {eps=1.0E-5}
                  %r.unreshaped: f32[1,4,1,7] = unary(%bn.unreshaped) {act=relu}
                  %y: f32[1,4,1,7] = scale(%r.unreshaped) {factor=2.0}
                  %z.unreshaped: f32[1,4,1,7] = unary(%c) {act=tanh}
                  %z: f32[1,28] = reshape(%z.unreshaped) {shape=[1,28]}
                  return %y, %z
                }
                """, after.toString(), "each reshape read once moves below the element-wise op; the two that meet cancel");
    }
}
