package dev.kiln.runtime.cli;

import dev.kiln.runtime.Kiln;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KilnCliTest {
    @Test
    void helpAndVersionSucceed() {
        String help = Cli.run("--help").expect(0).out();
        for (String cmd : new String[]{"compile", "run", "inspect", "bench", "demo"}) assertTrue(help.contains(cmd), help);
        assertEquals("kiln " + Kiln.VERSION + "\n", Cli.run("--version").expect(0).out());
        assertTrue(Cli.run("compile", "--help").expect(0).out().contains("--dump-ir-after"));
    }

    @Test
    void usageErrorsExitWithTwoAndOneLine() {
        Cli.Result none = Cli.run().expect(2);
        assertTrue(none.err().contains("Usage: kiln"), none.err());
        Cli.Result unknown = Cli.run("frobnicate").expect(2);
        assertEquals(1, unknown.errorLines().lines().count(), unknown.err());
        assertTrue(unknown.err().startsWith("kiln: usage error: Unmatched argument at index 0: 'frobnicate'"), unknown.err());
        Cli.Result option = Cli.run("inspect", "x.kiln", "--colour").expect(2);
        assertTrue(option.err().startsWith("kiln inspect: usage error: Unknown option: '--colour' (see 'kiln inspect --help')"), option.err());
    }

    @Test
    void failuresExitWithOneAndOneLineUnlessVerbose() {
        Cli.Result r = Cli.run("inspect", "/nonexistent/m.kiln").expect(1);
        assertEquals("kiln: error: /nonexistent/m.kiln: no such file\n", r.errorLines());
        Cli.Result v = Cli.run("inspect", "/nonexistent/m.kiln", "--verbose").expect(1);
        assertTrue(v.err().contains("dev.kiln.ir.KilnException: /nonexistent/m.kiln: no such file\n\tat "), v.err());
    }
}
