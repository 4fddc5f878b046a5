package dev.kiln.runtime.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressBarTest {
    @Test
    void redrawsOneLineInPlaceAndErasesItWhenDone() throws InterruptedException {
        StringWriter text = new StringWriter();
        AtomicLong done = new AtomicLong(25);
        try (ProgressBar bar = new ProgressBar(new PrintWriter(text), "bench", 100, done::get, 0)) {
            awaitText(text, "25/100");
            done.set(50);
            awaitText(text, "50/100");
        }
        String s = text.toString();
        assertTrue(s.startsWith("\rbench [#######-----------------------] 25/100 calls"), s);
        assertTrue(s.contains("\rbench [###############---------------] 50/100 calls"), s);
        assertTrue(s.endsWith("\r"), "erased at the end");
        assertEquals(-1, s.indexOf('\n'), "never moves to a new line");
    }

    private static void awaitText(StringWriter w, String part) throws InterruptedException {
        for (int i = 0; i < 500 && !w.toString().contains(part); i++) Thread.sleep(10);
    }

    @Test
    void staysSilentOnShortRuns() {
        StringWriter text = new StringWriter();
        try (ProgressBar bar = new ProgressBar(new PrintWriter(text), "bench", 100, () -> 100)) {
            assertTrue(bar != null);
        }
        assertEquals("", text.toString());
    }
}
