package dev.kiln.ir;

import dev.kiln.ir.op.Act;
import dev.kiln.ir.op.AvgPool2d;
import dev.kiln.ir.op.Conv2d;
import dev.kiln.ir.op.Epilogue;
import dev.kiln.ir.op.FusedDwPwConv;
import dev.kiln.ir.op.MaxPool2d;
import dev.kiln.ir.op.Op;
import dev.kiln.ir.op.Reshape;
import dev.kiln.ir.op.Slice;
import dev.kiln.ir.op.Transpose;
import dev.kiln.ir.op.Unary;
import org.junit.jupiter.api.Test;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Op attributes are values: the types the text IR handles, compared by value, never arrays. */
class OpAttributesTest {
    private static final Set<Class<?>> ALLOWED = Set.of(int.class, float.class, boolean.class, String.class,
            Ints.class, Act.class, Epilogue.class);

    @Test
    void noOpRecordHasAnArrayOrAnUnlistedAttributeType() {
        List<String> bad = new ArrayList<>();
        for (Class<?> op : Op.class.getPermittedSubclasses()) {
            assertTrue(op.isRecord(), op + " is not a record");
            for (RecordComponent rc : op.getRecordComponents()) {
                Class<?> t = rc.getType();
                if (t.isArray() || !(ALLOWED.contains(t) || t.isEnum()))
                    bad.add(op.getSimpleName() + "." + rc.getName() + ": " + t.getTypeName());
            }
        }
        assertEquals(List.of(), bad, "op attributes must be int, float, boolean, String, Ints, an enum, Act or Epilogue");
    }

    @Test
    void opsBuiltAlikeFromDifferentArraysAreEqual() {
        List<Op> a = sampleOps(), b = sampleOps();
        for (int i = 0; i < a.size(); i++) {
            assertNotSame(a.get(i), b.get(i));
            assertEquals(a.get(i), b.get(i));
            assertEquals(a.get(i).hashCode(), b.get(i).hashCode(), a.get(i)::toString);
        }
    }

    @Test
    void opsThatDifferInOneValueAreNotEqual() {
        Conv2d c = new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 1);
        assertNotEquals(c, new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 0}, new int[]{1, 1}, 1));
        assertNotEquals(c, new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 2}, 1));
        assertNotEquals(new Transpose(1, 0, 2), new Transpose(0, 2, 1));
        assertNotEquals(new Unary(Act.leakyRelu(0.0f)), new Unary(Act.leakyRelu(-0.0f)));
    }

    @Test
    void intsCopiesWhatItIsGivenAndWhatItHandsOut() {
        int[] v = {3, 4};
        Ints ints = Ints.of(v);
        v[0] = 9;
        ints.toArray()[1] = 9;
        assertEquals(Ints.of(3, 4), ints);
        assertEquals(2, ints.size());
        assertEquals(4, ints.get(1));
        assertEquals("[3,4]", ints.toString());
        assertEquals(ints, Ints.parse(" [ 3, 4 ] "));
        assertEquals(Ints.of(), Ints.parse("[]"));
        assertEquals(Ints.of(0, 0, 0, 0), Ints.filled(4, 0));
    }

    @Test
    void intAttributesPrintAsBefore() {
        assertEquals("stride=[1,1], padding=[1,1,1,1], dilation=[1,1], groups=32",
                IrPrinter.attributes(new Conv2d(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, 32)));
        assertEquals("shape=[]", IrPrinter.attributes(new Reshape(new int[0])));
    }

    private static List<Op> sampleOps() {
        return List.of(
                new Conv2d(new int[]{2, 1}, new int[]{1, 0, 1, 0}, new int[]{1, 2}, 1, Epilogue.of(Act.RELU).then(Epilogue.ADD)),
                new FusedDwPwConv(new int[]{1, 1}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, Act.clip(0, 6), Epilogue.of(Act.GELU)),
                new dev.kiln.ir.op.FusedExpandDwPwConv(new int[]{2, 2}, new int[]{1, 1, 1, 1}, new int[]{1, 1}, Act.clip(0, 6), Act.RELU, Epilogue.of(Epilogue.ADD)),
                new MaxPool2d(new int[]{3, 3}, new int[]{2, 2}, new int[]{1, 1, 1, 1}),
                new AvgPool2d(new int[]{2, 2}, new int[]{2, 2}, new int[4], false),
                new Reshape(new int[]{2, 3}),
                new Transpose(new int[]{2, 0, 1}),
                new Slice(new int[]{1}, new int[]{0}, new int[]{4}, new int[]{2}),
                new Unary(Act.of(Unary.Kind.LEAKY_RELU, Float.NaN)));
    }
}
