/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { Engine } from './engine';
import './errors';

Comlink.expose(new Engine(() => (self.navigator as WorkerNavigator & { gpu?: GPU }).gpu));
