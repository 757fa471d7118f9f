import { cordonCommand } from '../src/kube/cordon.js';

export default cordonCommand(true);
