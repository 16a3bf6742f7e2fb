import { mount } from 'svelte'
import App from './App.svelte'
import { AppState } from './lib/app.svelte.js'
import { client } from './lib/client.js'
import './app.css'

const app = new AppState(client)
app.start()

const target = document.getElementById('app')
if (!target) throw new Error('missing #app')
mount(App, { target, props: { app } })
