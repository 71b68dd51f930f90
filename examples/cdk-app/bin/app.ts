/** CDK entry point (cdk.json runs it with tsx, so a fresh clone needs no build). */
import { App } from 'aws-cdk-lib';
import { buildShopApp } from '../lib/shop-app.js';

const app = new App();
buildShopApp(app);
app.synth();
