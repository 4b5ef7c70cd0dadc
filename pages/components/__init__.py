"""The app's own Streamlit components: a folder of static files each, served by Streamlit, no build step."""
