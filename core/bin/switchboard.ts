// Entry point of the `switchboard` command when run through tsx (npm start).
import { main } from '../src/cli/main.ts';

await main();
