from fedgui.cli import main

raise SystemExit(main())
