// zod 4 compiles parsers with `new Function` unless told not to; the app's CSP forbids eval, and
// even zod's guarded probe is reported as a CSP violation. Imported first by main.tsx.
import { z } from "zod";

z.config({ jitless: true });
