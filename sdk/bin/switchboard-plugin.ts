// Entry point of the `switchboard-plugin` command when run through tsx.
import { main } from '../src/cli/main.ts';

await main();
