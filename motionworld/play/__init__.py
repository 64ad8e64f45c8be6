"""The play side: a Session (world + backend + controls), the Player loop that runs it in a worker
thread, the window (screen, HUD, key map), input logs, the play / render / replay commands
(`commands`) and the scene and backend chosen when the user names none (`defaults`)."""
